import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { floorSteps, measureMemoryFloor, startLoaded } from './memory-floor.js';

const root = join(import.meta.dirname, '../..');

describe('memory floor', () => {
  it('steps up from nothing to fastify to every runtime dependency in package.json', () => {
    const steps = floorSteps(root);
    assert.deepEqual(steps[0]?.modules, []);
    assert.deepEqual(steps[1]?.modules, ['fastify']);
    const all = steps[2]?.modules ?? [];
    for (const m of ['fastify', 'ioredis', 'openid-client', 'pino']) assert.ok(all.includes(m), m);
    assert.ok(all.includes('undici/lib/dispatcher/pool.js'), 'undici as vestibule imports it: the Pool alone');
    assert.ok(!all.includes('undici'));
    assert.ok(!all.some((m) => m.startsWith('@opentelemetry/sdk') || m.startsWith('@grpc/')), 'tracing: on demand');
  });

  it('measures real processes: loading the libraries costs memory a bare node does not use', async () => {
    const [bare, fastify, all] = await measureMemoryFloor(root, [], { runs: 1, settleMs: 100 });
    assert.ok(bare && fastify && all);
    assert.ok(bare.rss > 10 * 1024 * 1024, `bare node ${bare.rss}`);
    assert.ok(all.rss > bare.rss, `${all.rss} > ${bare.rss}`);
    // The node binary is mapped from a file: part of every step's RSS, never all of it.
    for (const step of [bare, fastify, all]) assert.ok(step.file > 0 && step.file < step.rss, step.label);
  });

  it("fails at once, with node's own words, when a flag or a module stops node", async () => {
    const started = Date.now();
    await assert.rejects(
      measureMemoryFloor(root, ['--no-such-flag-here'], { runs: 1, settleMs: 100 }),
      /node exited \(9\)/,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it('leaves no floor process behind when the bench itself is killed', async () => {
    const script = [
      `const { startLoaded } = await import(${JSON.stringify(join(import.meta.dirname, 'memory-floor.ts'))});`,
      `const p = startLoaded(${JSON.stringify(root)}, [], []);`,
      'await p.ready;',
      'process.stdout.write(`${p.pid}\\n`);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const bench = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      bench.stdout.once('data', (c: Buffer) => resolve(Number(String(c).trim())));
      bench.once('exit', (code) => reject(new Error(`exited ${String(code)} before the floor process was ready`)));
    });
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(pid > 0 && alive(), 'the floor process runs');
    bench.kill('SIGKILL');
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
    assert.equal(alive(), false, `floor process ${pid} outlived the bench`);
  });

  it("runs with the environment it is given (vestibule's allocator), on top of the bench's own", async () => {
    const p = startLoaded(root, [], [], { VESTIBULE_FLOOR_PROBE: 'jemalloc-or-not' });
    try {
      await p.ready;
      const environ = readFileSync(`/proc/${String(p.pid)}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes('VESTIBULE_FLOOR_PROBE=jemalloc-or-not'), 'the given variable');
      assert.ok(
        environ.some((e) => e.startsWith('PATH=')),
        "the bench's own environment",
      );
    } finally {
      p.stop();
    }
  });
});
