import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { IdpResponseError, isVestibuleError } from '../errors/registry.js';
import type { IdentityProvider } from '../oidc/provider.js';
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
  /** The identity provider could not be reached (or the lock wait ran out): the current tokens are kept. */
  | { readonly kind: 'kept'; readonly session: LoadedSession; readonly reason: string }
  /** The identity provider refused the refresh token (revoked, expired): the session has been ended. */
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
  /** After the IdP failed, how long before this replica tries that session again. */
  readonly retryAfterMs?: number;
  /** Called after every refresh attempt, for metrics. */
  readonly onOutcome?: (kind: RefreshOutcome['kind']) => void;
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

  constructor(deps: RefresherDeps) {
    this.#d = deps;
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
      p = this.#run(session, force).finally(() => this.#inflight.delete(id));
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

  async #run(session: LoadedSession, force: boolean): Promise<RefreshOutcome> {
    const deadline = this.#d.now() + (this.#d.waitMs ?? 10_000);
    let delay = 10;
    for (;;) {
      const lock = await this.#d.lock.tryAcquire(this.#d.keys.lock(session.ticket.id));
      if (lock) {
        const outcome = await this.#d.lock.holding(lock, () => this.#underLock(session, lock, force));
        this.#d.onOutcome?.(outcome.kind);
        return outcome;
      }
      if (this.#d.now() >= deadline) {
        this.#d.onOutcome?.('kept');
        return { kind: 'kept', session, reason: 'timed out waiting for another refresh of this session' };
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  }

  async #underLock(session: LoadedSession, lock: HeldLock, force: boolean): Promise<RefreshOutcome> {
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

    let tokens;
    try {
      tokens = await provider.refresh(refreshToken);
    } catch (err) {
      if (err instanceof IdpResponseError && err.httpStatus >= 400 && err.httpStatus < 500) {
        this.#d.log.info({ idpError: err.error }, 'refresh token refused by the identity provider; session ended');
        await sessions.destroy(current);
        return { kind: 'ended', reason: err.error };
      }
      const reason = isVestibuleError(err) ? err.message : 'refresh failed';
      this.#d.log.warn(
        { err: { message: reason } },
        'token refresh failed; keeping the current token while it is valid',
      );
      this.#backoff.set(session.ticket.id, now + (this.#d.retryAfterMs ?? 5_000));
      // Bounded during a long IdP outage with many sessions: expired back-offs go first.
      if (this.#backoff.size > 10_000)
        for (const [id, until] of this.#backoff) if (until <= now) this.#backoff.delete(id);
      return { kind: 'kept', session: current, reason };
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
