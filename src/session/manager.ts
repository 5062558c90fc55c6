import type { LoadedSession, Sessions } from './sessions.js';

export interface SessionManagerDeps {
  readonly sessions: Sessions;
  readonly now: () => number;
}

/**
 * Decides, per request, which session applies and which access token to forward. The single place that
 * later grows token refresh, so the proxy, forward-auth and the session endpoints share one behaviour.
 */
export class SessionManager {
  readonly #d: SessionManagerDeps;

  constructor(deps: SessionManagerDeps) {
    this.#d = deps;
  }

  /**
   * The first live session among the cookie values (a browser may send the cookie twice, e.g. from two paths);
   * null when none is valid. Rejects with STORE_UNAVAILABLE when the store cannot be read.
   */
  async find(cookieValues: readonly string[]): Promise<LoadedSession | null> {
    // At most a few tries: a client cannot make us do unbounded store reads with many duplicate cookies.
    for (const value of cookieValues.slice(0, 3)) {
      const session = await this.#d.sessions.load(value);
      if (session) return session;
    }
    return null;
  }

  /** The access token to forward, or undefined when it has expired. */
  accessToken(session: LoadedSession): string | undefined {
    return session.record.accessTokenExpiresAt > this.#d.now() ? session.record.accessToken : undefined;
  }
}
