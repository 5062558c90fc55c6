import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchSilence } from './silence-watch.js';

describe('watchSilence', () => {
  it('calls once when the progress reads the same for the limit', async () => {
    let calls = 0;
    watchSilence(
      () => 7,
      60,
      10,
      () => calls++,
    );
    await sleep(200);
    assert.equal(calls, 1);
  });

  it('never calls while the progress moves, nor while nothing is owed', async () => {
    let n = 0;
    let moving = 0;
    const stopMoving = watchSilence(
      () => n++,
      60,
      10,
      () => moving++,
    );
    let owedNothing = 0;
    const stopOwed = watchSilence(
      () => undefined,
      60,
      10,
      () => owedNothing++,
    );
    await sleep(200);
    stopMoving();
    stopOwed();
    assert.deepEqual([moving, owedNothing], [0, 0]);
    assert.ok(n > 5, 'the progress was read as it went');
  });

  it('a spell of nothing owed restarts the clock, and a stopped watch never calls', async () => {
    let owed = true;
    let calls = 0;
    watchSilence(
      () => (owed ? 1 : undefined),
      100,
      10,
      () => calls++,
    );
    await sleep(60);
    owed = false;
    await sleep(30);
    owed = true;
    await sleep(60);
    assert.equal(calls, 0, 'silent 60 ms, then 60 ms again: never 100 ms in a row');
    let stoppedCalls = 0;
    const stop = watchSilence(
      () => 1,
      30,
      10,
      () => stoppedCalls++,
    );
    stop();
    await sleep(100);
    assert.equal(stoppedCalls, 0);
  });
});
