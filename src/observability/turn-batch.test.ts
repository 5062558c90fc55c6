import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { TurnBatch } from './turn-batch.js';

function recordingSink() {
  const writes: string[] = [];
  const calls: string[] = [];
  return {
    writes,
    calls,
    sink: {
      write: (s: string) => writes.push(s),
      flush: (cb?: () => void) => {
        calls.push('flush');
        cb?.();
      },
      flushSync: () => calls.push('flushSync'),
    },
  };
}

describe('TurnBatch', () => {
  it('passes the lines of one turn on as one write, in order, and the next turn as another', async () => {
    const r = recordingSink();
    const batch = new TurnBatch(r.sink);
    batch.write('a\n');
    batch.write('b\n');
    batch.write('c\n');
    assert.deepEqual(r.writes, [], 'nothing before the turn ends');
    await nextTurn();
    assert.deepEqual(r.writes, ['a\nb\nc\n']);
    batch.write('d\n');
    await nextTurn();
    assert.deepEqual(r.writes, ['a\nb\nc\n', 'd\n']);
    await nextTurn();
    assert.equal(r.writes.length, 2, 'an idle turn writes nothing');
  });

  it('hands pending lines over before flushing the destination, synchronously on exit', () => {
    const r = recordingSink();
    const batch = new TurnBatch(r.sink);
    batch.write('last words\n');
    batch.flushSync();
    assert.deepEqual(r.writes, ['last words\n']);
    assert.deepEqual(r.calls, ['flushSync']);
    let called = false;
    batch.flush(() => (called = true));
    assert.ok(called, "pino's logger.flush(cb) gets its callback");
    assert.deepEqual(r.writes, ['last words\n'], 'nothing twice');
    assert.deepEqual(r.calls, ['flushSync', 'flush']);
  });
});
