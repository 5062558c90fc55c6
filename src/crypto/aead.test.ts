import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { open, seal } from './aead.js';
import { Keyring } from './keyring.js';

const ring = new Keyring(randomBytes(32));
const msg = Buffer.from('{"accessToken":"secret"}');

describe('seal/open', () => {
  it('round-trips and uses a fresh nonce each time', () => {
    const a = seal(ring, 'session-record', msg, 'key-1');
    const b = seal(ring, 'session-record', msg, 'key-1');
    assert.notDeepEqual(a, b);
    assert.deepEqual(open(ring, 'session-record', a, 'key-1')?.plaintext, msg);
    assert.equal(a.includes(Buffer.from('secret')), false);
  });

  it('rejects another aad, purpose, salt or key', () => {
    const salt = randomBytes(32);
    const s = seal(ring, 'session-record', msg, 'key-1', salt);
    assert.equal(open(ring, 'session-record', s, 'key-2', salt), null);
    assert.equal(open(ring, 'login-cookie', s, 'key-1', salt), null);
    assert.equal(open(ring, 'session-record', s, 'key-1', randomBytes(32)), null);
    assert.equal(open(ring, 'session-record', s, 'key-1'), null);
    assert.equal(open(new Keyring(randomBytes(32)), 'session-record', s, 'key-1', salt), null);
  });

  it('rejects every single-byte tampering and every truncation', () => {
    const s = seal(ring, 'login-cookie', msg, 'c');
    for (let i = 0; i < s.length; i++) {
      const t = Buffer.from(s);
      t[i] = (t[i] ?? 0) ^ 0x01;
      assert.equal(open(ring, 'login-cookie', t, 'c'), null, `byte ${i}`);
    }
    for (let n = 0; n < s.length; n++) assert.equal(open(ring, 'login-cookie', s.subarray(0, n), 'c'), null);
  });

  it('opens values sealed with a previous key and marks them stale', () => {
    const oldKey = randomBytes(32);
    const before = new Keyring(oldKey);
    const after = new Keyring(randomBytes(32), [oldKey]);
    const s = seal(before, 'session-record', msg, 'k');
    const opened = open(after, 'session-record', s, 'k');
    assert.deepEqual(opened?.plaintext, msg);
    assert.equal(opened.stale, true);
    assert.equal(open(after, 'session-record', seal(after, 'session-record', msg, 'k'), 'k')?.stale, false);
  });
});
