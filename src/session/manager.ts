import type { FastifyBaseLogger } from 'fastify';
import {
  isActive,
  sessionMetadata,
  shouldRefresh,
  shouldTouch,
  type SessionMetadata,
  type SessionPolicy,
} from './policy.js';
import type { Refresher, RefreshOutcome } from './refresher.js';
import type { LoadedSession, Sessions } from './sessions.js';
import type { Ticket } from './ticket.js';

export interface SessionManagerDeps {
  readonly sessions: Sessions;
  readonly refresher: Refresher;
  readonly policy: SessionPolicy;
  readonly now: () => number;
  readonly log: FastifyBaseLogger;
}

/** Cookie values looked at per request at most (duplicates from several paths or a planted parent domain). */
const MAX_COOKIE_VALUES = 20;

/** A session that may be used for a request, with the access token to forward. */
export interface ActiveSession {
  readonly session: LoadedSession;
  readonly accessToken: string;
  /** A new cookie value to send when the browser's was made with a previous key (key rotation). */
  readonly renewedCookie?: string;
}

/**
 * Decides, per request, which session applies and which access token to forward, refreshing first when due.
 * The proxy, forward-auth and the session endpoints share this one behaviour.
 */
export class SessionManager {
  readonly #d: SessionManagerDeps;

  constructor(deps: SessionManagerDeps) {
    this.#d = deps;
  }

  /**
   * The session of the cookie values (see {@link #chosenTicket}: exactly one distinct value may pass the MAC); it
   * may be inactive. Null when none is valid, or when several are. Rejects with STORE_UNAVAILABLE when the store
   * cannot be read.
   */
  async find(cookieValues: readonly string[]): Promise<LoadedSession | null> {
    const ticket = this.#chosenTicket(cookieValues);
    return ticket ? this.#d.sessions.loadTicket(ticket) : null;
  }

  /**
   * The ticket of the cookie values, chosen as {@link find} chooses it, without reading the store: null when none
   * is valid, or when several are. What a value bound to the browser's session (the step-up memory) is checked
   * against.
   */
  ticket(cookieValues: readonly string[]): Ticket | null {
    return this.#chosenTicket(cookieValues);
  }

  /**
   * The session and a usable access token for a request: refreshed first when due (single-flight across the
   * deployment), the inactivity deadline pushed out when half of it has passed. Null when there is no active
   * session or no valid token (e.g. the refresh token was revoked).
   */
  async authenticate(cookieValues: readonly string[]): Promise<ActiveSession | null> {
    let session = await this.find(cookieValues);
    if (!session) return null;
    let step = this.#step(session);
    if (step === 'refresh' && this.#d.refresher.backingOff(session)) {
      step = shouldTouch(session.record, this.#d.now(), this.#d.policy) ? 'touch' : 'use';
    }
    if (step === 'inactive') return null;
    if (step === 'refresh') {
      const outcome = await this.#d.refresher.refresh(session);
      if (outcome.kind === 'ended') return null;
      session = outcome.session;
    } else if (step === 'touch') {
      // Off the request path: a failed touch only means the deadline moves on a later request.
      this.#d.refresher.touch(session).catch((err: unknown) => {
        this.#d.log.warn({ err: { message: (err as Error).message } }, 'could not extend the session');
      });
    }
    const accessToken = this.accessToken(session);
    if (accessToken === undefined) return null;
    if (session.ticket.stale) return { session, accessToken, renewedCookie: this.#d.sessions.cookieValue(session) };
    if (session.stale) {
      // Sealed with a previous key: write it again under the current one, off the request path.
      this.#d.refresher.touch(session).catch(() => undefined);
    }
    return { session, accessToken };
  }

  /**
   * What {@link authenticate} would answer, given at once when the session is in the in-process cache and
   * needs nothing done (no refresh, no deadline to push out, no re-issue): the common case of a busy session,
   * without the promises and turns of the event loop of the full path. Undefined means: ask authenticate.
   * The same selection ({@link #chosenTicket}) and the same policy ({@link #step}) as authenticate.
   */
  authenticateCached(cookieValues: readonly string[]): ActiveSession | undefined {
    const ticket = this.#chosenTicket(cookieValues);
    if (!ticket) return undefined;
    const session = this.#d.sessions.cached(ticket);
    if (!session || this.#step(session) !== 'use') return undefined;
    const accessToken = this.accessToken(session);
    return accessToken === undefined ? undefined : { session, accessToken };
  }

  /**
   * The one ticket a request may use. Values that fail the MAC cost no store read and are skipped (a planted
   * garbage cookie cannot hide the real one). When two different values pass the MAC, the browser holds a
   * session cookie we did not give it for this path (cookie tossing: a sibling subdomain or another path on
   * the host planted a genuine session of its own, e.g. the attacker's, so the victim would act as the
   * attacker), and we cannot tell which is ours: none is used. Deterministic, whatever the order and whatever
   * the store holds; the same value sent twice is one ticket.
   */
  #chosenTicket(cookieValues: readonly string[]): Ticket | null {
    const limit = Math.min(cookieValues.length, MAX_COOKIE_VALUES);
    let chosen: Ticket | null = null;
    for (let i = 0; i < limit; i++) {
      const ticket = this.#d.sessions.ticketOf(cookieValues[i]);
      if (!ticket) continue;
      if (chosen === null) chosen = ticket;
      else if (chosen.id !== ticket.id) return null;
    }
    return chosen;
  }

  /**
   * How many different values pass the MAC (the values {@link #chosenTicket} looks at): more than one means a
   * session cookie we did not give this browser for this path rides beside ours (cookie tossing).
   */
  validValueCount(cookieValues: readonly string[]): number {
    const ids = new Set<string>();
    const limit = Math.min(cookieValues.length, MAX_COOKIE_VALUES);
    for (let i = 0; i < limit; i++) {
      const ticket = this.#d.sessions.ticketOf(cookieValues[i]);
      if (ticket) ids.add(ticket.id);
    }
    return ids.size;
  }

  /** What a loaded session needs before it may serve a request. */
  #step(session: LoadedSession): 'inactive' | 'refresh' | 'touch' | 'use' {
    const now = this.#d.now();
    const r = session.record;
    if (!isActive(r, now)) return 'inactive';
    if (shouldRefresh(r, now, this.#d.policy)) return 'refresh';
    if (shouldTouch(r, now, this.#d.policy)) return 'touch';
    return 'use';
  }

  /** Refreshes now, subject to the cooldown (the session refresh endpoint). */
  refreshNow(session: LoadedSession): Promise<RefreshOutcome> {
    return this.#d.refresher.refresh(session, true);
  }

  /** The access token to forward, or undefined when it has expired or the session is inactive. */
  accessToken(session: LoadedSession): string | undefined {
    const now = this.#d.now();
    return isActive(session.record, now) && session.record.accessTokenExpiresAt > now
      ? session.record.accessToken
      : undefined;
  }

  metadata(session: LoadedSession): SessionMetadata {
    return sessionMetadata(session.record, this.#d.now(), this.#d.policy);
  }
}
