import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallbackThrottle, clientKey } from './callback-throttle.js';

// Review 2, finding 1: the per-address bucket counted the socket peer, which behind an ingress controller is the
// controller, so one attacker's junk codes throttled every user's login. Per-address buckets now need a client
// address we can trust (VESTIBULE_TRUSTED_PROXIES), and IPv6 clients are counted per /64.

describe('login DoS: the callback throttle keys only on a client address it can trust', () => {
  it('login DoS: without trusted proxies the shared peer address has no bucket of its own, only the global one', () => {
    const throttle = new CallbackThrottle({ now: () => 0, perAddress: false });
    // The ingress controller's address, carrying every user's callbacks: 100 (the global burst), not 30.
    let granted = 0;
    for (let i = 0; i < 120; i++) if (throttle.take('10.0.0.5').ok) granted++;
    assert.equal(granted, 100);
    assert.deepEqual(throttle.take('10.0.0.5'), { ok: false, scope: 'global' });
  });

  it('login DoS: one IPv6 /64 shares one bucket, whichever of its addresses it uses', () => {
    const throttle = new CallbackThrottle({ now: () => 0 });
    let granted = 0;
    for (let i = 0; i < 60; i++) if (throttle.take(`2001:db8:1:2::${(i + 1).toString(16)}`).ok) granted++;
    assert.equal(granted, 30, 'a fresh address in the same /64 mints no fresh bucket');
    assert.deepEqual(throttle.take('2001:db8:1:2:ffff:ffff:ffff:ffff'), { ok: false, scope: 'address' });
    assert.equal(throttle.take('2001:db8:1:3::1').ok, true, 'the next /64 is another client');
  });

  it('login DoS: clientKey groups IPv6 by /64 in every spelling, keeps IPv4 (also IPv4-mapped) as is', () => {
    const key = '2001:db8:1:2::/64';
    for (const a of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd',
      '2001:DB8:1:2:0:0:0:0',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2:1:2:192.0.2.1',
    ]) {
      assert.equal(clientKey(a), key, a);
    }
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::FFFF:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('not an address'), 'not an address');
    assert.equal(clientKey(''), '');
  });
});
