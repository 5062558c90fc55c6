import type { LoadedSession } from './sessions.js';

export interface SessionCacheOptions {
  /** Most sessions kept; the least recently used goes first. */
  readonly maxEntries?: number;
  /** How long a decrypted session is reused before the store is read again. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * A short-lived in-process cache of decrypted sessions, so a busy session costs one store read, one decryption
 * and one parse per `ttlMs` instead of per request. Changes made on any replica are published (see
 * {@link InvalidationBus}) and evict the entry everywhere at once; the TTL bounds staleness if a message is lost.
 */
export class SessionCache {
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { session: LoadedSession; until: number }>();
  #enabled = true;

  constructor(o: SessionCacheOptions = {}) {
    this.#max = o.maxEntries ?? 2000;
    this.#ttl = o.ttlMs ?? 2000;
    this.#now = o.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): LoadedSession | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.until <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return e.session;
  }

  set(id: string, session: LoadedSession): void {
    if (!this.#enabled) return;
    this.#entries.delete(id);
    this.#entries.set(id, { session, until: this.#now() + this.#ttl });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  /**
   * Turns caching off and empties the cache (while invalidations cannot be received), or back on. Without the
   * invalidation channel a logout on another replica would go unnoticed for up to the TTL.
   */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    if (!enabled) this.#entries.clear();
  }
}

/** Tells every replica that a session changed or ended, so their caches drop it. */
export interface InvalidationBus {
  publish(id: string): Promise<void>;
  close(): Promise<void>;
}
