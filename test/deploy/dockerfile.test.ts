import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

// Runs scripts/check-dockerfile.mjs on the real Dockerfile and on broken copies of it, so every rule
// is shown to be able to fail.

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/check-dockerfile.mjs');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'vestibule-dockerfile-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function check(path?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, path === undefined ? [script] : [script, path], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let count = 0;
/** Writes a variant of the real Dockerfile and checks it. */
function checkVariant(edit: (text: string) => string): { status: number | null; stdout: string; stderr: string } {
  const changed = edit(dockerfile);
  assert.notEqual(changed, dockerfile, 'the edit must change the Dockerfile');
  const path = join(dir, `Dockerfile.${++count}`);
  writeFileSync(path, changed);
  return check(path);
}

describe('scripts/check-dockerfile.mjs', () => {
  it('passes on the repository Dockerfile, one line per rule', () => {
    const r = check();
    assert.equal(r.status, 0, r.stderr);
    for (const rule of [
      'dockerfile-utils lint',
      'multi-stage build',
      'final stage node LTS slim',
      'production dependencies only',
      'non-root numeric USER',
      'HEALTHCHECK via node',
      'EXPOSE 7564 7565 7164',
      'no remote ADD',
      'NODE_ENV=production',
      'ENTRYPOINT exec form',
    ])
      assert.match(r.stdout, new RegExp(`^ok +${rule.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('fails when the image runs as root', () => {
    const r = checkVariant((t) => t.replace(/^USER .*$/m, 'USER root'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL non-root numeric USER:\n {2}- final USER is root/);
  });

  it('fails when the final stage installs dev dependencies', () => {
    const r = checkVariant((t) => t.replace('COPY --from=deps /app/node_modules ./node_modules', 'RUN npm ci'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL production dependencies only/);
  });

  it('fails on a curl healthcheck, a wrong port list and a remote ADD', () => {
    const r = checkVariant((t) =>
      t
        .replace(/^HEALTHCHECK[\s\S]*?\n(?=ENTRYPOINT)/m, 'HEALTHCHECK CMD curl -f http://127.0.0.1:7565/healthz\n')
        .replace('EXPOSE 7564 7565 7164', 'EXPOSE 7564')
        .replace('COPY package.json ./\nCOPY --from', 'ADD https://example.com/package.json ./\nCOPY --from'),
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /HEALTHCHECK must run node/);
    assert.match(r.stderr, /exposed ports are 7564; expected 7164 7564 7565/);
    assert.match(r.stderr, /ADD of a remote source/);
    assert.doesNotMatch(r.stderr, /FAIL non-root numeric USER/);
  });

  it('fails on a single-stage, non-slim, unpinned image without NODE_ENV', () => {
    const r = checkVariant(
      () => 'FROM node:latest\nWORKDIR /app\nCOPY . .\nUSER 1000\nENTRYPOINT ["node", "dist/src/main.js"]\n',
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL multi-stage build/);
    assert.match(r.stderr, /node:latest is not pinned/);
    assert.match(r.stderr, /FAIL final stage node LTS slim/);
    assert.match(r.stderr, /FAIL NODE_ENV=production/);
  });

  it('fails on what dockerfile-utils reports', () => {
    const r = checkVariant((t) =>
      t.replace('WORKDIR /app\nCOPY package.json ./\n', 'WORKDIR /app\nMAINTAINER someone\nCOPY package.json ./\n'),
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL dockerfile-utils lint:\n {2}- line \d+: warning: MAINTAINER has been deprecated/);
  });

  it('fails clearly when the file does not exist', () => {
    const r = check(join(dir, 'missing'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read .*missing/);
  });
});
