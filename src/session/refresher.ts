import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { IdpResponseError, isVestibuleError } from '../errors/registry.js';
import { NOOP_SPAN, NOOP_TRACER, type Span, type Tracer } from '../tracing/tracer.js';
import { retryAfterMs, type IdentityProvider } from '../oidc/provider.js';
import { ClientBackoff, clampBackoff, extendUntil, readUntil } from './client-backoff.js';
import type { StoreKeys } from './keys.js';
import { cooldownUntil, shouldRefresh, timeoutFrom, type SessionPolicy } from './policy.js';
import type { SessionRecord } from './record.js';
import type { HeldLock, RefreshLock } from './refresh-lock.js';
import type { LoadedSession, Sessions } from './sessions.js';

/** What became of a session that was due for a refresh. */
export type RefreshOutcome =
  /** This call refreshed the tokens. */
  | { readonly kind: 'refreshed'; readonly session: LoadedSession }
  /** Nothing to do: another request or replica refreshed it, or the cooldown holds. */
  | { readonly kind: 'current'; readonly session: LoadedSession }
  /**
   * The identity provider could not be reached, throttled us, or refused for a reason that does not end the
   * grant (or the lock wait ran out), or the whole client is backing off after the IdP throttled it (no IdP
   * call was made): the current tokens are kept. `retryAt` (epoch ms): when the IdP will be asked again for this
   * session.
   */
  | { readonly kind: 'kept'; readonly session: LoadedSession; readonly reason: string; readonly retryAt?: number }
  /** The identity provider said the refresh token is gone (invalid_grant: revoked, expired): the session has been ended. */
  | { readonly kind: 'ended'; readonly reason: string };

export interface RefresherDeps {
  readonly sessions: Sessions;
  readonly keys: StoreKeys;
  readonly lock: RefreshLock;
  readonly provider: IdentityProvider;
  readonly clientId: string;
  readonly policy: SessionPolicy;
  readonly now: () => number;
  readonly log: FastifyBaseLogger;
  /** How long a request waits for another replica's refresh before it goes on with what it has. */
  readonly waitMs?: number;
  /** After the IdP failed without saying when to come back (no Retry-After), how long before this replica tries that session again. */
  readonly retryAfterMs?: number;
  /**
   * Called after every refresh attempt, for metrics: its outcome, or `backoff` for a 'kept' one that made no
   * IdP call because the client is backing off (see {@link ClientBackoff}).
   */
  readonly onOutcome?: (kind: RefreshOutcome['kind'] | 'backoff') => void;
  /** The client-wide back-off; by default one over the lock's store under `keys.idpBackoff()`. */
  readonly clientBackoff?: ClientBackoff;
  /** A `session refresh` span per attempt (its IdP and store calls nested), with a child for the lock wait. */
  readonly tracer?: Tracer;
}

/** Entra's AADSTS codes that mean the refresh token (the grant) is gone for good: only a new login helps. */
const GRANT_GONE_AADSTS = new Set([
  50173, // the grant was revoked (password change, admin revoke), a fresh auth token is needed
  70043, // the refresh token expired or is invalid due to sign-in frequency checks by conditional access
  700082, // the refresh token expired due to inactivity
  50133, // the session is invalid due to expiration or a recent password change
  70008, // the authorization code or refresh token expired due to inactivity
  700084, // the refresh token was issued to a single page app and its lifetime has ended
]);

/** Errors that are about the user, not the IdP's health: retrying without the user cannot help. */
const NEEDS_USER = new Set(['interaction_required', 'login_required', 'consent_required']);

/** The reason of a 'kept' outcome that skipped the IdP because the client is backing off. */
const CLIENT_BACKOFF = 'the identity provider is throttling this client; waiting before asking it again';

/**
 * Whether a failed refresh means the IdP is throttling the whole client, not this one session: 429,
 * `temporarily_unavailable`, or any answer that says when to come back (Retry-After, e.g. a 503).
 */
export function throttlesClient(err: unknown): boolean {
  if (err instanceof IdpResponseError && (err.httpStatus === 429 || err.error === 'temporarily_unavailable'))
    return true;
  return retryAfterMs(err) !== undefined;
}

/**
 * Whether an IdP answer to a refresh means the grant is gone, so the session must end: `invalid_grant`, or an
 * AADSTS code that says so. Never for throttling or an IdP fault (408, 429, 5xx) whatever the body says, nor
 * for anything else (invalid_client, temporarily_unavailable, interaction_required): those are not the user's
 * refresh token being revoked, and ending every session on them would log everyone out at once.
 */
export function grantIsGone(err: unknown): boolean {
  if (!(err instanceof IdpResponseError)) return false;
  if (err.httpStatus === 408 || err.httpStatus === 429 || err.httpStatus >= 500) return false;
  if (err.error === 'invalid_grant') return true;
  const code = /AADSTS(\d+)/.exec(err.errorDescription ?? '')?.[1];
  return code !== undefined && GRANT_GONE_AADSTS.has(Number(code));
}

/**
 * Refreshes sessions one at a time across the whole deployment: requests for the same session on this replica
 * share one attempt; replicas share a lease-renewed lock in the store; the rotated refresh token is written with
 * a write fenced by the lock, so no replica can overwrite a newer refresh token with an older one.
 */
export class Refresher {
  readonly #d: RefresherDeps;
  readonly #inflight = new Map<string, Promise<RefreshOutcome>>();
  readonly #backoff = new Map<string, number>();
  readonly #client: ClientBackoff;

  constructor(deps: RefresherDeps) {
    this.#d = deps;
    this.#client =
      deps.clientBackoff ??
      new ClientBackoff({ store: deps.lock.store, key: deps.keys.idpBackoff(), now: deps.now, log: deps.log });
  }

  /** True while this replica holds off retrying a session whose last refresh failed at the IdP. */
  backingOff(session: LoadedSession): boolean {
    const until = this.#backoff.get(session.ticket.id);
    if (until === undefined) return false;
    if (until > this.#d.now()) return true;
    this.#backoff.delete(session.ticket.id);
    return false;
  }

  /** Refreshes `session` if still due (or `force`, subject to the cooldown); coalesced per session. */
  refresh(session: LoadedSession, force = false): Promise<RefreshOutcome> {
    const id = session.ticket.id;
    let p = this.#inflight.get(id);
    if (!p) {
      const tracer = this.#d.tracer ?? NOOP_TRACER;
      p = (
        tracer.enabled
          ? tracer.withSpan('session refresh', (span) => this.#run(session, force, span))
          : this.#run(session, force, NOOP_SPAN)
      ).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, p);
    }
    return p;
  }

  /** Pushes the inactivity deadline out, under the lock; skipped when someone else is writing the session. */
  async touch(session: LoadedSession): Promise<void> {
    const lock = await this.#d.lock.tryAcquire(this.#d.keys.lock(session.ticket.id));
    if (!lock) return;
    await this.#d.lock.holding(lock, async () => {
      const current = await this.#d.sessions.reload(session.ticket);
      if (!current) return;
      const timeoutAt = timeoutFrom(this.#d.now(), current.record, this.#d.policy);
      await this.#d.sessions.update(current, { ...current.record, timeoutAt }, lock);
    });
  }

  async #run(session: LoadedSession, force: boolean, span: Span): Promise<RefreshOutcome> {
    const outcome = await this.#attempt(session, force);
    const kind = outcome.kind === 'kept' && outcome.reason === CLIENT_BACKOFF ? 'backoff' : outcome.kind;
    this.#d.onOutcome?.(kind);
    span.setAttribute('vestibule.refresh.outcome', kind);
    span.setAttribute('vestibule.refresh.forced', force);
    return outcome;
  }

  async #attempt(session: LoadedSession, force: boolean): Promise<RefreshOutcome> {
    const { policy } = this.#d;
    const now = this.#d.now();
    // The client is backing off: no lock, no record read, just the (mostly in-process) back-off check.
    if (force ? now >= cooldownUntil(session.record, policy) : shouldRefresh(session.record, now, policy)) {
      const until = await this.#client.until();
      if (until !== undefined) {
        if (session.record.accessTokenExpiresAt > now) return this.#clientBackingOff(session, until);
        // Ours has expired: maybe another replica refreshed it before the back-off began.
        const current = await this.#d.sessions.reload(session.ticket);
        if (!current) return { kind: 'ended', reason: 'the session is gone' };
        if (current.record.refreshedAt !== session.record.refreshedAt) return { kind: 'current', session: current };
        return this.#clientBackingOff(current, until);
      }
    }
    const deadline = now + (this.#d.waitMs ?? 10_000);
    let delay = 10;
    let waited = false;
    // From the first refused lock to the lock or the deadline: how long this request waited for another's refresh.
    let wait = NOOP_SPAN;
    for (;;) {
      const lock = await this.#d.lock.tryAcquire(this.#d.keys.lock(session.ticket.id));
      if (lock) {
        wait.end();
        return this.#d.lock.holding(lock, () => this.#underLock(session, lock, force, waited));
      }
      if (this.#d.now() >= deadline) {
        wait.fail('timed out');
        wait.end();
        return { kind: 'kept', session, reason: 'timed out waiting for another refresh of this session' };
      }
      if (!waited) wait = (this.#d.tracer ?? NOOP_TRACER).startSpan('session refresh lock wait');
      waited = true;
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  }

  #clientBackingOff(session: LoadedSession, until: number): RefreshOutcome {
    return { kind: 'kept', session, reason: CLIENT_BACKOFF, retryAt: until };
  }

  /** `waited`: another request held the lock first (its attempt may just have failed at the IdP). */
  async #underLock(session: LoadedSession, lock: HeldLock, force: boolean, waited: boolean): Promise<RefreshOutcome> {
    const { sessions, policy, provider } = this.#d;
    const current = await sessions.reload(session.ticket);
    if (!current) return { kind: 'ended', reason: 'the session is gone' };
    // Another replica (or request) refreshed while we waited for the lock: use its tokens.
    if (current.record.refreshedAt !== session.record.refreshedAt) return { kind: 'current', session: current };
    const now = this.#d.now();
    if (force ? now < cooldownUntil(current.record, policy) : !shouldRefresh(current.record, now, policy)) {
      return { kind: 'current', session: current };
    }
    const refreshToken = current.record.refreshToken;
    if (refreshToken === null) return { kind: 'current', session: current };
    // The IdP throttled the client (another session, another replica): no grant until the back-off has passed.
    // After waiting for the lock, read afresh: the holder may have been throttled a moment ago.
    const clientUntil = await this.#client.until(waited);
    if (clientUntil !== undefined) return this.#clientBackingOff(current, clientUntil);
    // The IdP asked us to wait for this session (or its last try failed, here or on another replica, e.g. the
    // lock holder we waited for): the refresh endpoint must not hammer it either.
    const waitUntil = Math.max(this.#backoff.get(current.ticket.id) ?? 0, await this.#sharedRetryAt(current));
    if (waitUntil > now) {
      this.#backoff.set(current.ticket.id, waitUntil);
      return {
        kind: 'kept',
        session: current,
        reason: 'waiting before asking the identity provider again',
        retryAt: waitUntil,
      };
    }

    let tokens;
    try {
      tokens = await provider.refresh(refreshToken);
    } catch (err) {
      if (grantIsGone(err)) {
        const idpError = (err as IdpResponseError).error;
        this.#d.log.info({ idpError }, 'refresh token refused by the identity provider; session ended');
        await sessions.destroy(current);
        return { kind: 'ended', reason: idpError };
      }
      const reason = isVestibuleError(err) ? err.message : 'refresh failed';
      const retryAt = this.#retryAt(err, current);
      this.#d.log.warn(
        {
          err: { message: reason },
          ...(err instanceof IdpResponseError ? { idpError: err.error, httpStatus: err.httpStatus } : {}),
          retryInMs: retryAt - now,
        },
        'token refresh failed; keeping the current token while it is valid',
      );
      this.#backoff.set(session.ticket.id, retryAt);
      // Bounded during a long IdP outage with many sessions: expired back-offs go first.
      if (this.#backoff.size > 10_000)
        for (const [id, until] of this.#backoff) if (until <= now) this.#backoff.delete(id);
      // Shared, so neither a replica that waited for our lock nor the next one asks again for this session…
      await extendUntil(this.#d.lock.store, this.#d.keys.refreshRetry(session.ticket.id), retryAt, now).catch(
        () => undefined,
      );
      // …nor, when the IdP throttled the client, for any session.
      if (throttlesClient(err)) await this.#client.hold(retryAt);
      return { kind: 'kept', session: current, reason, retryAt };
    }

    if (tokens.idToken) {
      const problem = await this.#checkRefreshedIdToken(tokens.idToken, current.record);
      if (problem) {
        this.#d.log.warn({ problem }, 'refreshed ID token rejected; session ended');
        await sessions.destroy(current);
        return { kind: 'ended', reason: problem };
      }
    }
    const after = this.#d.now();
    const record: SessionRecord = {
      ...current.record,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: after + tokens.expiresIn * 1000,
      // Entra rotates refresh tokens; keep the old one only if none came back.
      refreshToken: tokens.refreshToken ?? refreshToken,
      idToken: tokens.idToken ?? current.record.idToken,
      refreshedAt: after,
      timeoutAt: current.record.timeoutAt === null ? null : timeoutFrom(after, current.record, policy),
    };
    if (!(await sessions.update(current, record, lock))) {
      // The lease ran out (the store was unreachable for longer than it): another replica may own the session now.
      const latest = await sessions.reload(session.ticket);
      return latest ? { kind: 'current', session: latest } : { kind: 'ended', reason: 'the session is gone' };
    }
    this.#d.log.debug(
      {
        expiresIn: tokens.expiresIn,
        rotated: tokens.refreshToken !== undefined,
        idToken: tokens.idToken !== undefined,
      },
      'refresh: tokens refreshed',
    );
    return { kind: 'refreshed', session: { ...current, record } };
  }

  /** When the last failed refresh of this session (on any replica) said to ask again; 0 when none did. */
  async #sharedRetryAt(session: LoadedSession): Promise<number> {
    try {
      return readUntil(await this.#d.lock.store.get(this.#d.keys.refreshRetry(session.ticket.id))) ?? 0;
    } catch {
      return 0;
    }
  }

  /**
   * When to ask the IdP again after a failed refresh: when it said (Retry-After, at least 5 s, at most 10 min:
   * `Retry-After: 0` must not mean "at once"); when the refresh
   * token needs the user (interaction_required …), not before the access token has expired, since asking again
   * cannot succeed and the user signs in anew once it has; otherwise after the default back-off.
   */
  #retryAt(err: unknown, session: LoadedSession): number {
    const now = this.#d.now();
    const fallback = now + (this.#d.retryAfterMs ?? 5_000);
    const asked = retryAfterMs(err);
    if (asked !== undefined) return now + clampBackoff(asked, 0);
    if (err instanceof IdpResponseError && NEEDS_USER.has(err.error)) {
      return Math.max(fallback, session.record.accessTokenExpiresAt);
    }
    return fallback;
  }

  /** A refreshed ID token must validate and belong to the same user in the same tenant (OIDC Core 12.2). */
  async #checkRefreshedIdToken(idToken: string, previous: SessionRecord): Promise<string | undefined> {
    try {
      const claims = await this.#d.provider.validator.validate(idToken, { audience: this.#d.clientId });
      if (claims.sub !== previous.claims.sub) return 'the refreshed ID token is for another subject';
      if (previous.claims.tid !== undefined && claims.tid !== previous.claims.tid)
        return 'the refreshed ID token is for another tenant';
      return undefined;
    } catch (err) {
      return isVestibuleError(err) ? err.message : 'the refreshed ID token did not validate';
    }
  }
}
