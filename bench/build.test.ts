import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { containerEnv, containerNodeFlags, imageEnvironment, tsxTargets } from './build.js';

function inRepo<T>(text: string, read: (root: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-build-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), text);
    return read(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

function withDockerfile(text: string): string[] {
  return inRepo(text, containerNodeFlags);
}

const repo = join(import.meta.dirname, '..');

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

const STAGES = [
  'FROM node:24-bookworm-slim AS build',
  'ENV BUILD_ONLY=1',
  'FROM node:24-bookworm-slim',
  'ENV NODE_ENV=production',
  'RUN apt-get update \\',
  '  && apt-get install -y --no-install-recommends libjemalloc2',
  'ENV LD_PRELOAD=/lib/libjemalloc.so.2 \\',
  '  MALLOC_CONF=background_thread:true,dirty_decay_ms:1000 QUOTED="a b"',
  'ENTRYPOINT ["node", "dist/src/main.js"]',
  '',
].join('\n');

describe('containerEnv', () => {
  it("reads the runtime stage's ENV lines, continued ones and quoted values too, not an earlier stage's", () => {
    assert.deepEqual(inRepo(STAGES, containerEnv), {
      NODE_ENV: 'production',
      LD_PRELOAD: '/lib/libjemalloc.so.2',
      MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000',
      QUOTED: 'a b',
    });
  });

  it('is empty without ENV', () => {
    assert.deepEqual(inRepo('FROM x\nENTRYPOINT ["node", "main.js"]\n', containerEnv), {});
  });

  it('refuses a form it would misread, rather than run in another environment than the image', () => {
    for (const line of [
      'ENV LD_PRELOAD /x.so',
      "ENV A='x y'",
      'ENV A="say \\"hi\\""',
      'ENV PATH=/app:$PATH',
      'env A=1 B',
    ]) {
      assert.throws(() => inRepo(`FROM x\n${line}\n`, containerEnv), /cannot read/, line);
    }
    assert.deepEqual(
      inRepo('from x AS a\nENV A=1\nfrom y\nenv B=2\n', containerEnv),
      { B: '2' },
      'keywords in any case',
    );
    assert.deepEqual(
      inRepo('FROM x\nENV A=1\n  FROM y\n  ENV my.key-1=2\n', containerEnv),
      { 'my.key-1': '2' },
      'indented, and keys with dots and dashes',
    );
  });
});

describe('imageEnvironment', () => {
  it('applies the preload when the library is on this machine, and names every variable but NODE_ENV', () => {
    const image = inRepo(STAGES, (root) => imageEnvironment(root, () => true));
    assert.equal(image.env.LD_PRELOAD, '/lib/libjemalloc.so.2');
    assert.deepEqual(image.missing, []);
    assert.equal(
      image.description,
      'env LD_PRELOAD=/lib/libjemalloc.so.2 MALLOC_CONF=background_thread:true,dirty_decay_ms:1000 QUOTED=a b as in the Dockerfile',
    );
  });

  it('runs without a preloaded library that is missing here, and says so', () => {
    const image = inRepo(STAGES, (root) => imageEnvironment(root, () => false));
    assert.equal(image.env.LD_PRELOAD, undefined);
    assert.equal(image.env.MALLOC_CONF, 'background_thread:true,dirty_decay_ms:1000');
    assert.deepEqual(image.missing, ['/lib/libjemalloc.so.2']);
    assert.match(
      image.description,
      /without the Dockerfile's LD_PRELOAD of \/lib\/libjemalloc\.so\.2: not on this machine/,
    );
    assert.match(image.description, /apt-get install libjemalloc2/);
    assert.match(image.description, /glibc's malloc/);
  });

  it("is what the repository image sets: jemalloc, and vestibule's command carries it", () => {
    const image = imageEnvironment(repo, () => true);
    assert.match(image.env.LD_PRELOAD ?? '', /libjemalloc\.so\.2$/);
    assert.match(image.env.MALLOC_CONF ?? '', /dirty_decay_ms:\d+/);
    const node = tsxTargets([], repo);
    assert.deepEqual(node.vestibule.env, node.nodeEnv);
    assert.equal(node.nodeEnv.MALLOC_CONF, image.env.MALLOC_CONF);
  });
});
