import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTicket } from '../session/ticket.js';
import { open } from './aead.js';
import { Keyring } from './keyring.js';

// Values written by the code of commit fcfec50. Cookies in browsers and records in Redis outlive a deployment, so
// a faster implementation must derive the very same keys, ids and tags: these pin the formats, not the code.
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

  it('a record sealed then still opens', () => {
    const sealed = Buffer.from('AUuwb46NHaojDzAmu/p5+IyY275M5nddI2Z+6VA8BJmtceE8npfoFqLGZ3NnJfnx6Wk=', 'base64');
    const opened = open(ring, 'session-record', sealed, 'vestibule:c:session:x', raw);
    assert.equal(opened?.plaintext.toString(), '{"hello":"world"}');
    assert.equal(opened.stale, false);
    assert.equal(open(ring, 'session-record', sealed, 'vestibule:c:session:y', raw), null);
  });
});
