import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../errors/registry.js';
import { CallbackThrottle } from './callback-throttle.js';
import { LOGIN_WINDOW_SEC } from './login-rate-limit.js';

describe('CallbackThrottle (token-endpoint flood, issue 15 item 9)', () => {
  it('token-endpoint flood: per address, a burst then the refill rate; other addresses unaffected', () => {
    const clock = { t: 0 };
    const throttle = new CallbackThrottle({ now: () => clock.t });
    const taken = Array.from({ length: 12 }, () => throttle.take('192.0.2.1').ok);
    assert.deepEqual(taken, [...Array<boolean>(10).fill(true), false, false]);
    assert.deepEqual(throttle.take('192.0.2.1'), { ok: false, scope: 'address' });
    assert.equal(throttle.take('192.0.2.2').ok, true);
    clock.t += 6_000; // 10 a minute: one more after 6 s
    assert.equal(throttle.take('192.0.2.1').ok, true);
    assert.equal(throttle.take('192.0.2.1').ok, false);
  });

  it('token-endpoint flood: globally, a burst of 100 then 20 a second, whatever the addresses', () => {
    const clock = { t: 0 };
    const throttle = new CallbackThrottle({ now: () => clock.t });
    let granted = 0;
    for (let i = 0; i < 150; i++) if (throttle.take(`10.0.${i >> 8}.${i & 255}`).ok) granted++;
    assert.equal(granted, 100);
    assert.deepEqual(throttle.take('10.1.0.0'), { ok: false, scope: 'global' });
    clock.t += 1_000;
    granted = 0;
    for (let i = 0; i < 50; i++) if (throttle.take(`10.2.0.${i}`).ok) granted++;
    assert.equal(granted, 20);
  });

  it('a completed login gives its token back: real logins never exhaust their address', () => {
    const throttle = new CallbackThrottle({ now: () => 0 });
    for (let i = 0; i < 100; i++) {
      const slot = throttle.take('192.0.2.9');
      assert.ok(slot.ok, `login ${i}`);
      slot.giveBack();
    }
  });

  it("the registry's login-loop Retry-After is the loop window", () => {
    assert.equal(ErrorCodes.LOGIN_RATE_LIMITED.retryAfterSec, LOGIN_WINDOW_SEC);
  });
});
