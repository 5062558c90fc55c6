import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Keyring } from '../crypto/keyring.js';
import { IdpResponseError, VestibuleError } from '../errors/registry.js';
import type { IdentityProvider, TokenResult } from '../oidc/provider.js';
import { MIN_IDP_BACKOFF_MS } from './client-backoff.js';
import { storeKeys } from './keys.js';
import type { SessionPolicy } from './policy.js';
import { RefreshLock } from './refresh-lock.js';
import { Refresher } from './refresher.js';
import { Sessions } from './sessions.js';
import { MemoryStore } from './store-memory.js';

const MIN = 60_000;
const policy: SessionPolicy = { refreshMarginMs: 10 * MIN, refreshCooldownMs: MIN, inactivityTimeoutMs: 60 * MIN };

/** A token endpoint whose answers the test releases one at a time, counting the calls. */
class GatedIdp {
  calls = 0;
  #open = false;
  readonly #waiting: ((outcome: Error | TokenResult) => void)[] = [];
  readonly provider = {
    refresh: () => {
      this.calls++;
      if (this.#open) return Promise.resolve(fresh);
      return new Promise<TokenResult>((resolve, reject) => {
        this.#waiting.push((o) => (o instanceof Error ? reject(o) : resolve(o)));
      });
    },
  } as unknown as IdentityProvider;

  /** Resolves once a call is waiting (fails after 2 s: a test must not hang on a call that never comes). */
  async called(n = 1): Promise<void> {
    for (let i = 0; this.calls < n; i++) {
      assert.ok(i < 2000, `expected ${n} IdP call(s), saw ${this.calls}`);
      await sleep(1);
    }
  }

  /** From now on every call succeeds at once (so a call that should not happen shows, instead of hanging). */
  open(): void {
    this.#open = true;
  }

  async answer(outcome: Error | TokenResult): Promise<void> {
    for (let i = 0; this.#waiting.length === 0; i++) {
      assert.ok(i < 2000, 'no IdP call is waiting for an answer');
      await sleep(1);
    }
    this.#waiting.shift()?.(outcome);
  }
}

const fresh: TokenResult = { accessToken: 'at-2', expiresIn: 3600, refreshToken: 'rt-2', idToken: undefined };

/** What openid-client's error chain carries: the response with its headers. */
const throttled = (retryAfter: string): Error =>
  new IdpResponseError(
    429,
    { error: 'temporarily_unavailable' },
    { cause: { headers: new Headers({ 'retry-after': retryAfter }) } },
  );

/** Two replicas (two Refreshers, each with its own in-process state) over one store and one IdP. */
function twoReplicas() {
  const now = { t: Date.UTC(2026, 10, 26) };
  const clock = () => now.t;
  const store = new MemoryStore(clock);
  const keys = storeKeys('vestibule:test');
  const sessions = new Sessions({ store, keyring: new Keyring(randomBytes(32)), keys, now: clock });
  const idp = new GatedIdp();
  const outcomes: string[] = [];
  const replica = () =>
    new Refresher({
      sessions,
      keys,
      lock: new RefreshLock(store),
      provider: idp.provider,
      clientId: 'c',
      policy,
      now: clock,
      log: pino({ level: 'silent' }),
      onOutcome: (kind) => outcomes.push(kind),
    });
  const newSession = async () =>
    (
      await sessions.create({
        createdAt: now.t,
        endsAt: now.t + 600 * MIN,
        timeoutAt: null,
        refreshedAt: now.t - 55 * MIN, // past the cooldown
        accessToken: 'at-1',
        accessTokenExpiresAt: now.t + 5 * MIN, // inside the margin: due for refresh, still valid
        refreshToken: 'rt-1',
        idToken: null,
        claims: { sub: 'u1' },
      })
    ).session;
  return { now, idp, outcomes, a: replica(), b: replica(), newSession };
}

describe('Refresher: back-offs shared across replicas', () => {
  it('a lock waiter whose holder was throttled takes that outcome instead of asking the IdP at once', async () => {
    const { idp, a, b, newSession } = twoReplicas();
    const session = await newSession();
    const holder = a.refresh(session);
    await idp.called(); // a holds the lock and waits for the IdP
    const waiter = b.refresh(session); // b checked the (empty) back-off, then waits for the lock
    await sleep(30);
    await idp.answer(throttled('30'));
    idp.open();
    assert.equal((await holder).kind, 'kept');
    const second = await waiter;
    assert.equal(second.kind, 'kept', 'the waiter keeps the current token');
    assert.equal(idp.calls, 1, 'the waiter did not ask the IdP again straight after the holder was throttled');
  });

  it('a lock waiter whose holder could not reach the IdP does not retry at once either', async () => {
    const { idp, a, b, newSession } = twoReplicas();
    const session = await newSession();
    const holder = a.refresh(session);
    await idp.called();
    const waiter = b.refresh(session);
    await sleep(30);
    await idp.answer(new VestibuleError('IDP_UNAVAILABLE', 'refresh_token: the token endpoint did not answer in time'));
    idp.open();
    assert.equal((await holder).kind, 'kept');
    assert.equal((await waiter).kind, 'kept');
    assert.equal(idp.calls, 1, "the waiter took the holder's failed attempt");
  });

  it('a throttled client: other sessions on other replicas skip the IdP (counted as backoff) until it has passed', async () => {
    const { now, idp, outcomes, a, b, newSession } = twoReplicas();
    const [s1, s2, s3] = [await newSession(), await newSession(), await newSession()];
    const first = a.refresh(s1);
    await idp.answer(throttled('0')); // Retry-After: 0 still means the minimum
    idp.open();
    const kept = await first;
    assert.equal(kept.kind, 'kept');
    assert.equal(kept.retryAt, now.t + MIN_IDP_BACKOFF_MS);
    for (const [replica, s] of [
      [a, s2],
      [b, s2],
      [b, s3],
      [b, s1],
    ] as const) {
      const o = await replica.refresh(s);
      assert.equal(o.kind, 'kept');
      assert.equal(o.retryAt, now.t + MIN_IDP_BACKOFF_MS, 'the remaining client back-off');
    }
    assert.equal(idp.calls, 1);
    assert.deepEqual(outcomes, ['kept', 'backoff', 'backoff', 'backoff', 'backoff']);

    now.t += MIN_IDP_BACKOFF_MS;
    assert.equal((await b.refresh(s2)).kind, 'refreshed', 'refreshes resume once the back-off has passed');
    assert.equal(idp.calls, 2);
  });

  it('a shorter back-off never shortens a longer one in the store', async () => {
    const { now, idp, a, b, newSession } = twoReplicas();
    const [s1, s2, s3] = [await newSession(), await newSession(), await newSession()];
    const long = a.refresh(s1);
    const short = b.refresh(s2); // both in flight before either answer came back
    await idp.answer(throttled('60'));
    await long;
    await idp.answer(throttled('10'));
    idp.open();
    await short;
    now.t += 30_000;
    const third = await b.refresh(s3); // b's own copy (10 s) has run out: it reads the store

    assert.equal(third.kind, 'kept', 'the 60 s back-off still holds after 30 s');
    assert.equal(idp.calls, 2);
  });
});
