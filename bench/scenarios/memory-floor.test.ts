import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { floorSteps, measureMemoryFloor } from './memory-floor.js';

const root = join(import.meta.dirname, '../..');

describe('memory floor', () => {
  it('steps up from nothing to fastify to every runtime dependency in package.json', () => {
    const steps = floorSteps(root);
    assert.deepEqual(steps[0]?.modules, []);
    assert.deepEqual(steps[1]?.modules, ['fastify']);
    const all = steps[2]?.modules ?? [];
    for (const m of ['fastify', 'ioredis', 'openid-client', 'pino', 'undici']) assert.ok(all.includes(m), m);
  });

  it('measures real processes: loading the libraries costs memory a bare node does not use', async () => {
    const [bare, fastify, all] = await measureMemoryFloor(root, [], { runs: 1, settleMs: 100 });
    assert.ok(bare && fastify && all);
    assert.ok(bare.rss > 10 * 1024 * 1024, `bare node ${bare.rss}`);
    assert.ok(all.rss > bare.rss, `${all.rss} > ${bare.rss}`);
  });

  it("fails at once, with node's own words, when a flag or a module stops node", async () => {
    const started = Date.now();
    await assert.rejects(
      measureMemoryFloor(root, ['--no-such-flag-here'], { runs: 1, settleMs: 100 }),
      /node exited \(9\)/,
    );
    assert.ok(Date.now() - started < 10_000);
  });
});
