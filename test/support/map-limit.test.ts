import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from './map-limit.js';

describe('mapLimit', () => {
  it('keeps the order of the items, whatever order the work finishes in, and passes each index', async () => {
    const items = [50, 5, 30, 0, 20, 10];
    const out = await mapLimit(items, 3, async (ms, i) => {
      await sleep(ms);
      return `${i}:${ms}`;
    });
    assert.deepEqual(out, ['0:50', '1:5', '2:30', '3:0', '4:20', '5:10']);
  });

  it('never has more than `limit` calls in flight, and does reach the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const calls: number[] = [];
    await mapLimit(
      Array.from({ length: 25 }, (_, i) => i),
      4,
      async (n) => {
        calls.push(n);
        peak = Math.max(peak, ++inFlight);
        await sleep(n % 3);
        inFlight--;
      },
    );
    assert.equal(peak, 4);
    assert.deepEqual(
      calls.sort((a, b) => a - b),
      Array.from({ length: 25 }, (_, i) => i),
      'each item exactly once',
    );
  });

  it('with limit 1 runs the items one after the other, in order', async () => {
    const log: string[] = [];
    await mapLimit(['a', 'b', 'c'], 1, async (x) => {
      log.push(`start ${x}`);
      await sleep(1);
      log.push(`end ${x}`);
    });
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('handles no items and a limit above the item count', async () => {
    assert.deepEqual(await mapLimit([], 5, () => Promise.resolve(1)), []);
    let peak = 0;
    let inFlight = 0;
    const out = await mapLimit([1, 2], 10, async (x) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(1);
      inFlight--;
      return x * 2;
    });
    assert.deepEqual(out, [2, 4]);
    assert.equal(peak, 2);
  });

  it('rejects with the first failure of the work', async () => {
    await assert.rejects(
      mapLimit([1, 2, 3], 2, async (x) => {
        await sleep(1);
        if (x === 2) throw new Error('item 2 failed');
        return x;
      }),
      /item 2 failed/,
    );
  });
});
