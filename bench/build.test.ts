import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { containerNodeFlags } from './build.js';

function withDockerfile(text: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-build-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), text);
    return containerNodeFlags(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

describe('containerNodeFlags', () => {
  it('reads the node flags of the exec-form ENTRYPOINT, not the script', () => {
    const flags = withDockerfile(
      'FROM node:24-bookworm-slim\nENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/src/main.js"]\n',
    );
    assert.deepEqual(flags, ['--max-semi-space-size=8', '--heap-growing-percent=50']);
  });

  it('is empty when the ENTRYPOINT has no flags or is missing', () => {
    assert.deepEqual(withDockerfile('FROM x\nENTRYPOINT ["node", "dist/src/main.js"]\n'), []);
    assert.deepEqual(withDockerfile('FROM x\nCMD ["node", "main.js"]\n'), []);
  });

  it('runs what the repository image runs', () => {
    const flags = containerNodeFlags(join(import.meta.dirname, '..'));
    assert.ok(flags.includes('--heap-growing-percent=50'), flags.join(' '));
  });
});
