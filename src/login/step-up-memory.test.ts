import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIngress, type Ingress } from '../config/ingress.js';
import { Keyring } from '../crypto/keyring.js';
import {
  STEP_UP_MEMORY_SEC,
  claimsFingerprint,
  stepUpCookieName,
  stepUpMemoryValue,
  steppedUpRecently,
} from './step-up-memory.js';

function ingressOf(url: string): Ingress {
  const ingress = parseIngress(url);
  if (typeof ingress === 'string') throw new Error(ingress);
  return ingress;
}

describe('step-up memory', () => {
  const K1 = Buffer.alloc(32, 1);
  const K2 = Buffer.alloc(32, 2);
  const ring = new Keyring(K1);
  // A sub-path ingress: the cookie is `__Secure-`, which a sibling subdomain can plant for the parent domain.
  const ingress = ingressOf('https://example.com/app');
  const name = stepUpCookieName(ingress);
  const print = claimsFingerprint('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}');
  const session = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'; // a ticket id: 32 base64url characters
  const other = 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
  const now = 1_800_000_000_000;
  const sec = now / 1000;

  const made = (r = ring, id = session, at = now): string => {
    const value = stepUpMemoryValue(r, print, id, at);
    assert.ok(value !== undefined);
    return value;
  };
  const remembered = (value: string, id = session, r = ring, at = now): boolean =>
    steppedUpRecently(`${name}=${value}`, ingress, r, id, print, at);

  it('remembers a step-up of this session for five minutes (positive control)', () => {
    const value = made();
    assert.match(value, /^[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{22}$/);
    assert.ok(remembered(value));
    assert.ok(remembered(value, session, ring, now + (STEP_UP_MEMORY_SEC - 1) * 1000));
    assert.equal(remembered(value, session, ring, now + STEP_UP_MEMORY_SEC * 1000), false, 'expired');
  });

  it('holds no secret: neither the session ticket id nor anything but the fingerprint, the time and a MAC', () => {
    const value = made();
    assert.ok(!value.includes(session));
    assert.equal(value.split('.')[0], print);
    assert.equal(value.split('.')[1], String(sec));
  });

  it('a forged value (the public fingerprint and a fresh time, without or with a wrong MAC) is no memory', () => {
    for (const forged of [`${print}.${sec}`, `${print}.${sec}.`, `${print}.${sec}.${'A'.repeat(22)}`]) {
      assert.equal(remembered(forged), false, forged);
    }
    // A MAC made under a key the ring does not hold.
    assert.equal(remembered(made(new Keyring(K2))), false);
  });

  it('a value made for another session, or read without a session, is no memory', () => {
    assert.equal(remembered(made(ring, other)), false);
    assert.equal(remembered(made(), other), false);
    assert.equal(steppedUpRecently(`${name}=${made()}`, ingress, ring, undefined, print, now), false, 'no session');
  });

  it('a tampered time or fingerprint fails the MAC; a time over 5 s in the future is no memory', () => {
    const [p, at, mac] = made().split('.');
    assert.equal(remembered(`${p}.${Number(at) - 1}.${mac}`), false, 'an earlier time');
    assert.equal(remembered(`${p}.${Number(at) + 1}.${mac}`, session, ring, now + 5000), false, 'a later time');
    assert.equal(remembered(`${p}.0${at}.${mac}`), false, 'the same time spelled otherwise');
    const otherPrint = claimsFingerprint('{"access_token":{"acrs":{"essential":true,"value":"c2"}}}');
    assert.equal(remembered(`${otherPrint}.${at}.${mac}`), false, 'another fingerprint');
    assert.equal(remembered(made(ring, session, now + 6000)), false, 'made 6 s in the future');
    // Another replica's clock a little ahead: the next login may land there within the same second.
    assert.ok(remembered(made(ring, session, now + 5000)), 'made 5 s in the future');
  });

  it('a value made under a previous key still counts after a rotation, and no longer once that key is gone', () => {
    const value = made(new Keyring(K1));
    assert.ok(remembered(value, session, new Keyring(K2, [K1])));
    assert.ok(remembered(made(new Keyring(K2, [K1])), session, new Keyring(K2)));
    assert.equal(remembered(value, session, new Keyring(K2)), false);
  });

  it('checks the MAC of at most 4 values a request: hundreds of forged ones cost no more than that', () => {
    const forged = `${name}=${print}.${sec}.${'A'.repeat(22)}`;
    const genuine = `${name}=${made()}`;
    const header = (n: number): string => [...Array<string>(n).fill(forged), genuine].join('; ');
    assert.ok(steppedUpRecently(header(3), ingress, ring, session, print, now), 'the 4th value is checked');
    // The 5th is not: planted values can turn the guard off (the login rate limit still bounds a loop), never on.
    assert.equal(steppedUpRecently(header(4), ingress, ring, session, print, now), false);
    // Values that fail the cheap checks (another fingerprint, a stale time) do not count towards the four.
    const stale = `${name}=${print}.${sec - STEP_UP_MEMORY_SEC}.${'A'.repeat(22)}`;
    assert.ok(
      steppedUpRecently([stale, stale, stale, stale, stale, genuine].join('; '), ingress, ring, session, print, now),
    );
  });

  it('malformed values are no memory and never throw; a planted value does not hide the genuine one', () => {
    for (const bad of [
      '',
      '.',
      '..',
      'x',
      print,
      `${print}.abc.${'A'.repeat(22)}`,
      `${print}.1e9.x.y`,
      '%'.repeat(500),
    ]) {
      assert.equal(remembered(bad), false, bad);
    }
    assert.equal(steppedUpRecently(undefined, ingress, ring, session, print, now), false);
    const header = `${name}=${print}.${sec}.${'A'.repeat(22)}; ${name}=${made()}`;
    assert.ok(steppedUpRecently(header, ingress, ring, session, print, now));
    assert.equal(stepUpMemoryValue(ring, 'not a fingerprint', session, now), undefined);
  });
});
