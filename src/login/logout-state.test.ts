import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keyring } from '../crypto/keyring.js';
import { openLogoutState, sealLogoutState } from './logout-state.js';

describe('logout state', () => {
  const ring = new Keyring(Buffer.alloc(32, 3));
  const now = 1_800_000_000_000;

  it('opens under the name it was sealed under, and under no other of our cookie names', () => {
    const sealed = sealLogoutState(ring, '__Host-vestibule.logout', { state: 's1', redirect: '/x' }, now);
    assert.deepEqual(openLogoutState(ring, '__Host-vestibule.logout', sealed, now), { state: 's1', redirect: '/x' });
    assert.equal(openLogoutState(ring, 'vestibule.logout', sealed, now), null);
    assert.equal(openLogoutState(ring, '__Secure-vestibule.logout', sealed, now), null);
  });

  it('expires after its ten minutes', () => {
    const sealed = sealLogoutState(ring, 'vestibule.logout', { state: 's', redirect: '/' }, now);
    assert.equal(openLogoutState(ring, 'vestibule.logout', sealed, now + 601_000), null);
  });
});
