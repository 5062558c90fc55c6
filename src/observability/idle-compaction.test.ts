import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuietAfterBusy, lastResortGc, startIdleCompaction } from './idle-compaction.js';

describe('QuietAfterBusy', () => {
  it('collects once, after the quiet time that follows a busy window', () => {
    const d = new QuietAfterBusy(10_000, 0.05);
    assert.equal(d.window(0.01, 2_000), false, 'quiet from the start: nothing to give back');
    assert.equal(d.window(0.01, 2_000), false);
    assert.equal(d.window(0.9, 2_000), false, 'busy');
    const quiet = [1, 2, 3, 4, 5].map(() => d.window(0.01, 2_000));
    assert.deepEqual(quiet, [false, false, false, false, true], 'after 10 s of quiet');
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => d.window(0.0, 2_000)),
      [false, false, false, false, false, false],
      'once per busy spell',
    );
  });

  it('starts the quiet time over when load comes back', () => {
    const d = new QuietAfterBusy(6_000, 0.05);
    d.window(0.5, 2_000);
    d.window(0.01, 2_000);
    d.window(0.01, 2_000);
    assert.equal(d.window(0.2, 2_000), false, 'busy again before the quiet time was up');
    assert.equal(d.window(0.01, 2_000), false);
    assert.equal(d.window(0.01, 2_000), false);
    assert.equal(d.window(0.01, 2_000), true);
  });
});

describe('QuietAfterBusy with a least interval', () => {
  it('pauses the loop at most once per interval when load comes in short bursts', () => {
    const d = new QuietAfterBusy(4_000, 0.05, 20_000);
    const burst = (): boolean[] => [0.5, 0.01, 0.01].map((u) => d.window(u, 2_000));
    assert.deepEqual(burst(), [false, false, true], 'the first quiet spell collects');
    assert.deepEqual(burst(), [false, false, false], '6 s later: too soon');
    assert.deepEqual(burst(), [false, false, false], '12 s later: too soon');
    // Still armed: it collects once 20 s have passed since the last collection, the loop still quiet.
    assert.deepEqual(
      [0.01, 0.01, 0.01, 0.01, 0.01].map((u) => d.window(u, 2_000)),
      [false, false, false, true, false],
    );
  });
});

describe('startIdleCompaction', () => {
  it('collects from an unref’d timer once the loop, busy, has gone quiet', async () => {
    let collected = 0;
    const times: number[] = [];
    const stop = startIdleCompaction({
      checkMs: 20,
      quietMs: 60,
      busyUtilization: 0.3,
      collector: () => () => collected++,
      onCollect: (ms) => times.push(ms),
    });
    try {
      await sleep(50);
      assert.equal(collected, 0, 'never busy yet');
      const until = performance.now() + 80;
      while (performance.now() < until); // a busy spell: the loop blocked
      await sleep(200);
      assert.equal(collected, 1);
      assert.equal(times.length, 1);
    } finally {
      stop();
    }
  });

  it('waits while requests are answered, however little of the loop they take', async () => {
    let collected = 0;
    let answered = 0;
    const stop = startIdleCompaction({
      checkMs: 20,
      quietMs: 60,
      busyUtilization: 0.3,
      minIntervalMs: 0,
      activity: () => answered,
      collector: () => () => collected++,
    });
    try {
      const ticker = setInterval(() => answered++, 10);
      await sleep(200);
      assert.equal(collected, 0, 'a request in every window: busy, never quiet');
      clearInterval(ticker);
      await sleep(200);
      assert.equal(collected, 1, 'quiet once the requests stopped');
    } finally {
      stop();
    }
  });

  it('leaves a heap above its cap to V8', async () => {
    let collected = 0;
    let answered = 0;
    const stop = startIdleCompaction({
      checkMs: 20,
      quietMs: 40,
      minIntervalMs: 0,
      maxHeapBytes: 1,
      activity: () => answered,
      collector: () => () => collected++,
    });
    try {
      answered++;
      await sleep(200);
      assert.equal(collected, 0);
    } finally {
      stop();
    }
  });

  it('is off, and says why, where gc cannot be had', () => {
    const told: string[] = [];
    const stop = startIdleCompaction({
      collector: () => {
        throw new Error('no gc here');
      },
      onUnavailable: (err) => told.push(err.message),
    });
    assert.deepEqual(told, ['no gc here']);
    stop();
  });

  it('does not keep the process alive', () => {
    const active = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = active();
    const stop = startIdleCompaction({ collector: () => () => undefined });
    // An unref'd interval is not listed among the resources that keep the loop alive.
    assert.equal(active(), before);
    stop();
  });
});

describe('lastResortGc', () => {
  it('gives back garbage V8 was holding', () => {
    const gc = lastResortGc();
    const junk: { garbage: object[] | undefined } = {
      garbage: Array.from({ length: 200_000 }, (_, i) => ({ s: `garbage ${i}` })),
    };
    const held = process.memoryUsage().heapUsed;
    junk.garbage = undefined;
    gc();
    const after = process.memoryUsage().heapUsed;
    assert.ok(after < held - 5 * 2 ** 20, `heap used ${held} → ${after}`);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the main context gets no gc()');
  });
});
