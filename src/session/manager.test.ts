import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Keyring } from '../crypto/keyring.js';
import type { IdentityProvider } from '../oidc/provider.js';
import { storeKeys } from './keys.js';
import { SessionManager } from './manager.js';
import type { SessionPolicy } from './policy.js';
import type { SessionRecord } from './record.js';
import { RefreshLock } from './refresh-lock.js';
import { Refresher } from './refresher.js';
import { SessionCache } from './session-cache.js';
import { Sessions } from './sessions.js';
import type { Ticket } from './ticket.js';
import { MemoryStore } from './store-memory.js';

const MIN = 60_000;
const policy: SessionPolicy = { refreshMarginMs: 5 * MIN, refreshCooldownMs: MIN, inactivityTimeoutMs: 60 * MIN };

/** Counts the store reads, so a test can tell the cache answered. */
class CountingStore extends MemoryStore {
  reads = 0;
  /** Runs while a read is in flight (after the store answered, before the caller sees it). */
  duringRead: (() => void) | undefined;
  override async get(key: string): Promise<Buffer | null> {
    this.reads++;
    const value = await super.get(key);
    this.duringRead?.();
    return value;
  }
}

// authenticateCached never refreshes: an identity provider that fails any call makes a use of it visible.
const noIdp = new Proxy({} as IdentityProvider, {
  get: (_t, name) => {
    throw new Error(`identity provider's ${String(name)} was used`);
  },
});

/** The verified ticket of a cookie value (the test fails here if it does not verify). */
function ticketOf(sessions: Sessions, cookieValue: string): Ticket {
  const ticket = sessions.ticketOf(cookieValue);
  assert.ok(ticket, 'the cookie verifies');
  return ticket;
}

function setup(now: { t: number }, key = randomBytes(32)) {
  const clock = () => now.t;
  const store = new CountingStore(clock);
  const keyring = new Keyring(key);
  const keys = storeKeys('vestibule:test');
  const cache = new SessionCache({ now: clock });
  const sessions = new Sessions({ store, keyring, keys, now: clock, cache });
  const log = pino({ level: 'silent' });
  const lock = new RefreshLock(store);
  const refresher = new Refresher({ sessions, keys, lock, provider: noIdp, clientId: 'c', policy, now: clock, log });
  const manager = new SessionManager({ sessions, refresher, policy, now: clock, log });
  const record = (over: Partial<SessionRecord> = {}): SessionRecord => ({
    createdAt: now.t,
    endsAt: now.t + 600 * MIN,
    timeoutAt: now.t + 60 * MIN,
    refreshedAt: now.t,
    accessToken: 'at-1',
    accessTokenExpiresAt: now.t + 60 * MIN,
    refreshToken: 'rt-1',
    idToken: null,
    claims: { sub: 'u1' },
    ...over,
  });
  return { store, sessions, cache, manager, record };
}

describe('SessionManager.authenticateCached', () => {
  it('answers from the cache once the full path has read the session twice, with no store read', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const { store, sessions, manager, record } = setup(now);
    const { cookieValue } = await sessions.create(record());
    assert.equal(manager.authenticateCached([cookieValue]), undefined, 'not cached yet: ask the full path');
    await manager.authenticate([cookieValue]);
    assert.equal(manager.authenticateCached([cookieValue]), undefined, 'read once: still not cached');
    const full = await manager.authenticate([cookieValue]);
    assert.equal(full?.accessToken, 'at-1');
    const reads = store.reads;
    const fast = manager.authenticateCached(['garbage', cookieValue]);
    assert.equal(fast?.accessToken, 'at-1');
    assert.equal(fast.session.ticket.id, full.session.ticket.id);
    assert.equal(store.reads, reads);
  });

  it('leaves to the full path whatever needs doing or deciding: refresh due, deadline to push out, ended', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const { sessions, manager, record } = setup(now);
    const cases = {
      refreshDue: record({ accessTokenExpiresAt: now.t + 2 * MIN, refreshedAt: now.t - 10 * MIN }),
      touchDue: record({ timeoutAt: now.t + 20 * MIN, refreshToken: null }),
      tokenExpired: record({ accessTokenExpiresAt: now.t - 1, refreshToken: null }),
      timedOut: record({ timeoutAt: now.t - 1 }),
    };
    for (const [name, r] of Object.entries(cases)) {
      const { cookieValue } = await sessions.create(r);
      await sessions.load(cookieValue);
      await sessions.load(cookieValue); // read twice: now cached
      assert.ok(sessions.cached(ticketOf(sessions, cookieValue)), `${name} is cached`);
      assert.equal(manager.authenticateCached([cookieValue]), undefined, name);
    }
  });

  it('never answers for a cookie made under a previous key (it must be re-issued) or a tampered one', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const old = randomBytes(32);
    const before = setup(now, old);
    const { cookieValue } = await before.sessions.create(before.record());
    // The same store read through a keyring that has rotated: the cookie verifies, but only as stale.
    const rotated = new Sessions({
      store: before.store,
      keyring: new Keyring(randomBytes(32), [old]),
      keys: storeKeys('vestibule:test'),
      now: () => now.t,
      cache: new SessionCache({ now: () => now.t }),
    });
    assert.equal(rotated.ticketOf(cookieValue)?.stale, true);
    assert.ok(await rotated.load(cookieValue), 'readable under the previous key');
    assert.ok(await rotated.load(cookieValue), 'read twice: now cached');
    assert.equal(rotated.cached(ticketOf(rotated, cookieValue)), undefined);
    const tampered = `${cookieValue.slice(0, -2)}${cookieValue.endsWith('AA') ? 'AB' : 'AA'}`;
    await before.manager.authenticate([cookieValue]);
    await before.manager.authenticate([cookieValue]);
    assert.ok(before.manager.authenticateCached([cookieValue]), 'the genuine cookie is answered from the cache');
    assert.equal(before.manager.authenticateCached([tampered]), undefined);
  });
});

describe('Sessions with the in-process cache', () => {
  it('does not cache a read that a logout published elsewhere overtook', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const { store, sessions: cached, cache, record } = setup(now);
    const { cookieValue } = await cached.create(record());
    const id = ticketOf(cached, cookieValue).id;
    await cached.load(cookieValue); // read once
    store.duringRead = () => cache.delete(id); // the invalidation arrives while the second read is in flight
    assert.ok(await cached.load(cookieValue));
    store.duringRead = undefined;
    assert.equal(cached.cached(ticketOf(cached, cookieValue)), undefined, 'the overtaken read was not cached');
    await cached.load(cookieValue);
    await cached.load(cookieValue);
    assert.ok(cached.cached(ticketOf(cached, cookieValue)), 'later reads are');
  });
});

describe('SessionManager: which session cookie value is used (cookie tossing, issue 15 item 1)', () => {
  it('cookie tossing: two different valid session values are no session, in either order, cached or not', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const { sessions, manager, record } = setup(now);
    const victim = (await sessions.create(record({ accessToken: 'victim' }))).cookieValue;
    const attacker = (await sessions.create(record({ accessToken: 'attacker' }))).cookieValue;
    // Warm the cache for both, so the fast path would have something to answer with.
    for (let i = 0; i < 2; i++) {
      await manager.authenticate([victim]);
      await manager.authenticate([attacker]);
    }
    assert.equal(manager.authenticateCached([victim])?.accessToken, 'victim');
    for (const values of [
      [attacker, victim],
      [victim, attacker],
      ['garbage', attacker, 'x', victim],
    ]) {
      assert.equal(await manager.find(values), null, values.join(' '));
      assert.equal(await manager.authenticate(values), null);
      assert.equal(manager.authenticateCached(values), undefined);
    }
    // The same value twice (one cookie sent from two paths) is one session; garbage does not hide it.
    assert.equal((await manager.authenticate([victim, 'garbage', victim]))?.accessToken, 'victim');
  });

  it('cookie tossing: a valid value that is not in the store still makes the choice ambiguous', async () => {
    const now = { t: Date.UTC(2026, 10, 26) };
    const { sessions, manager, record } = setup(now);
    const live = (await sessions.create(record())).cookieValue;
    const ended = await sessions.create(record());
    await sessions.destroy(ended.session);
    assert.equal(await manager.find([ended.cookieValue, live]), null);
  });
});
