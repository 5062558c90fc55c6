import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { open } from '../../src/crypto/aead.js';
import { Keyring } from '../../src/crypto/keyring.js';
import { storeKeys } from '../../src/session/keys.js';
import { decodeRecord, type SessionRecord } from '../../src/session/record.js';
import { readTicket } from '../../src/session/ticket.js';

// Values written by the code of commit fcfec50. Cookies in browsers and records in Redis outlive a deployment, and
// during a rolling upgrade old and new replicas read each other's: a faster or tidier implementation must derive
// the very same keys, ids, tags, store keys and record bytes. These pin the formats, not the code; a deliberate
// change of format needs a new version that the previous release can already read.
const ring = new Keyring(Buffer.alloc(32, 7), [Buffer.alloc(32, 9)]);
const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('formats that outlive a deployment (known answers)', () => {
  it('key fingerprints and purpose keys of the current and a previous key', () => {
    assert.deepEqual(
      ring.ids.map((b) => b.toString('hex')),
      ['4bb06f8e', '8c0cc17a'],
    );
    const expected = {
      'session-record': [
        'a4d8e2d80b92cedf048b72e03aedeb70f346254e14355d1334dbf3c56101d918',
        '1a95af98d77955816a1b396c7e9e6df851781aa88226023a22307ece3874b7e3',
      ],
      'session-ticket': [
        'cf0c784cd5afacee26845b88d579db8c0485fc5ce563a3611af922e55d9bcd75',
        'e970c0d6400c2b3b6c386bf431c6d2c859a6a2b035a10fc301f686788fcca412',
      ],
      'login-cookie': [
        '012ee11ba78ce698efbc012c7eccbec5d2bdc61a02350d4423e44b6eebbe38a6',
        '666d3dca1e8fc71bb64a0e2028547f2f403625e72ec638d85eba793ae6c4bd5c',
      ],
      'logout-cookie': [
        '214e9e9903b9175ee21dad7a5fd06b25efd5d3dd15b5f36311e3bb229c19248b',
        '5035fa62dd4555108e1f14d8059ce2b18a128eb6bce790eb91a68d66fcf7fce5',
      ],
      'log-hash': [
        '954ed18aec7ef883786406c2f955f9d9f2afb3f21080fd9d6f142eca63b6b224',
        '42c8fad46c6423d730f11ef71ebfb7840f8de0d8079733ce083606732bb0a542',
      ],
    } as const;
    for (const [purpose, [current, previous]] of Object.entries(expected)) {
      const p = purpose as keyof typeof expected;
      assert.equal(ring.derive(p)?.toString('hex'), current, purpose);
      assert.equal(ring.derive(p, ring.currentId)?.toString('hex'), current, purpose);
      assert.equal(ring.derive(p, ring.ids[1])?.toString('hex'), previous, purpose);
    }
    assert.equal(ring.derive('session-record', Buffer.from('00000000', 'hex')), undefined);
  });

  it("a session record's key, salted with its ticket", () => {
    assert.equal(
      ring.derive('session-record', undefined, raw)?.toString('hex'),
      'e2a6b8847a1fe62f705b2cc9a5ccd597ba456f9ec0938884b999f8c3c2527320',
    );
  });

  it("a session cookie's MAC and the store id of its ticket", () => {
    const ticket = readTicket(ring, 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9Ezz4wp4S_9yJKYGktEagi');
    assert.ok(ticket);
    assert.deepEqual(ticket.raw, raw);
    assert.equal(ticket.id, 'Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI');
    assert.equal(ticket.stale, false);
    // The same ticket with its last MAC byte changed is no ticket.
    assert.equal(readTicket(ring, 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9Ezz4wp4S_9yJKYGktEagj'), null);
  });

  it('the store keys of a session, its indexes, its lock and the login state', () => {
    const keys = storeKeys('vestibule:app');
    const id = 'Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI';
    assert.equal(keys.record(id), 'vestibule:app:s:{Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI}');
    assert.equal(keys.lock(id), 'vestibule:app:s:{Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI}:lock');
    assert.equal(keys.refreshRetry(id), 'vestibule:app:s:{Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI}:retry');
    assert.equal(keys.bySid('s-1'), 'vestibule:app:sid:{aoQLr12MP_JBaIrrFFRuZTd0zVOH-vHL}');
    assert.equal(
      keys.byOid('0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0'),
      'vestibule:app:oid:{QO1xzFD7RMYM-C6hBhgH7PgJGVfsTpQf}',
    );
    assert.equal(keys.spentState('st'), 'vestibule:app:state:{Vq9L3nCkeufQ8euzDkXtM2Fl1cnsALqa}');
    assert.equal(keys.idpBackoff(), 'vestibule:app:idp-backoff');
  });

  it('a session record as Redis holds it: sealed under its store key and ticket, under the current or a previous key', () => {
    const record: SessionRecord = {
      createdAt: 1700000000000,
      endsAt: 1700036000000,
      timeoutAt: null,
      refreshedAt: 1700000000000,
      accessToken: 'at.payload.sig',
      accessTokenExpiresAt: 1700003600000,
      refreshToken: 'rt-opaque',
      idToken: 'it.payload.sig',
      claims: {
        sub: 'sub-1',
        tid: 't-1',
        oid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
        sid: 's-1',
        name: 'Kari Nordmann',
        preferredUsername: 'kari@nav.example',
      },
    };
    const key = storeKeys('vestibule:app').record('Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI');
    for (const [sealedB64, stale] of [
      [SEALED_CURRENT, false],
      [SEALED_PREVIOUS, true],
    ] as const) {
      const opened = open(ring, 'session-record', Buffer.from(sealedB64, 'base64'), key, raw);
      assert.ok(opened, `stale=${String(stale)}`);
      assert.equal(opened.stale, stale);
      assert.deepEqual(decodeRecord(opened.plaintext), record);
    }
  });

  it('a session cookie tagged under the previous key is the same ticket, marked for re-issue', () => {
    const ticket = readTicket(ring, 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8XaszOpMOOkSOB0pigeImu');
    assert.ok(ticket);
    assert.deepEqual(ticket.raw, raw);
    assert.equal(ticket.id, 'Yw3NKWbEM2aRElRIu7JbT_QSpJxzLbLI');
    assert.equal(ticket.stale, true);
  });

  it('a record sealed then still opens', () => {
    const sealed = Buffer.from('AUuwb46NHaojDzAmu/p5+IyY275M5nddI2Z+6VA8BJmtceE8npfoFqLGZ3NnJfnx6Wk=', 'base64');
    const opened = open(ring, 'session-record', sealed, 'vestibule:c:session:x', raw);
    assert.equal(opened?.plaintext.toString(), '{"hello":"world"}');
    assert.equal(opened.stale, false);
    assert.equal(open(ring, 'session-record', sealed, 'vestibule:c:session:y', raw), null);
  });
});

const SEALED_CURRENT =
  'AUuwb479B9mvqcUKB/RJjCiZN9PHqHTYhoQhyT20KbmYfqmlhNRcacomMPzvfOWY3hJtJD9zTNP8XVSFZYaHgg083pp24PTQXPf5VWIgbx1dbcODSLLNelAwQjR48gr7W7xNzQQzkDOjN+FZWw4juYvV7WKzrp/2o3ugNrReUoRsZLbUlA33cKGr+FFdyhFoRs2tm1GN1tR4y6Jc1PujUaklaVAA8xu3WUsZ8p8dVxxeo8LKgl3R3PgJ6rpvsF5CErXtMwgYVUb0CGH/OmDQG0zN3FzCeBvVLAywfAMyy2aKj1Gv3BuDZUGORxz+b1WlCW5zDurcM+qhNngwVSP/6BR3mF6q4M6wzEfpJQtquwqTZnWDeT+nvgIAnI1aBW9RltwSVe70arvCXoH9TWJQwdl2WlEbCHWVkj0G0SOm6Yv0mooLUqo/DYuNZFwsw8Ky6HLlDOnThhiHSArUyvlP1qLqCVzdc+mnr0+9FmKCWs2I6CnxAqhL3ft8H+mSKSIMr1gfPSAIU9xNDZ9MRb9saddlRXDGDw==';
const SEALED_PREVIOUS =
  'AYwMwXqN42ay5vm3NlnL+EIwlSH9CLCNoc5bpcdKtX2E9+K0pNubRIjRKuz+lMwZNqOXzmFBDXfEPerbW2MEyWr8qGyDEVaZzZDlBz8NjNNGbyn+tzY07csrJne5Ns+2sVlGeB9flcCafT9PW1VRYnnslyDAi7kd1OuwJBcM+y3FE7r2T1CBQgfEh6EYisBWL7vlXs1HB60ti5Kz+j6+pct9lZFQ4cYWb2OlxNJzMbyNzWo+088LJ75c255Oaf/89cU8xHT9odKHCeE2jZkPlK+b6rhETEuLyB2YxrSxdIlf5hbxevBAtyCCCOXmrftmqDaoZ8gG5NgJ80NwG8fNEpPhGDVLcFLVThxiAaAF8KNTevmdfvVuH3nK3WGGRIILoH4WcFjN9AwxTu5z2qDEdCJHIcbkhCQRVlJshyCsSycrAiNzJSRyvEwzpv6Os3G3758JwoNB5lx5Jf1IyOMcP48mKrVY8YCOgV7wAxv9WLrEetckoHerKOGvgRrN0h4lj0ecO+FxRQ9AGzvwqqVRWIn+2F1GLA==';
