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
 *
 * A session read from the store is admitted on its second read, not its first (a "doorkeeper", as in TinyLFU):
 * a browser's page load sends several requests at once, so a user's session is cached from the second one,
 * while a stream of sessions each seen once (a scan, a crawler replaying cookies, more distinct users per TTL than
 * `maxEntries`) passes through without pushing busy sessions out or filling the heap with records read once.
 */
export class SessionCache {
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { session: LoadedSession; until: number }>();
  /** Ids read once and not cached yet, oldest first; as many as the cache holds at most. */
  readonly #seen = new Set<string>();
  #enabled = true;
  #epoch = 0;

  constructor(o: SessionCacheOptions = {}) {
    this.#max = o.maxEntries ?? 2000;
    this.#ttl = o.ttlMs ?? 2000;
    this.#now = o.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Moves on whenever an entry is invalidated or the cache is turned off. A caller takes it before reading or
   * writing the store and hands it to {@link offer} or {@link set}: an invalidation that arrived meanwhile (a
   * logout on another replica, published while this replica's read was in flight) then keeps the result out.
   */
  get epoch(): number {
    return this.#epoch;
  }

  get(id: string): LoadedSession | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.until <= this.#now()) {
      this.#entries.delete(id);
      // It was in use: the read that follows is admitted at once.
      this.#remember(id);
      return undefined;
    }
    return e.session;
  }

  /** Caches a session just read from the store if it was read before; otherwise only remembers its id. */
  offer(id: string, session: LoadedSession, epoch: number): void {
    if (!this.#enabled || epoch !== this.#epoch) return;
    if (this.#seen.delete(id)) this.#put(id, session);
    else this.#remember(id);
  }

  #remember(id: string): void {
    this.#seen.delete(id); // to the back: recently read
    this.#seen.add(id);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
  }

  /** Caches a session that is in use (just read twice, refreshed or extended), replacing any entry. */
  set(id: string, session: LoadedSession, epoch: number): void {
    if (this.#enabled && epoch === this.#epoch) this.#put(id, session);
  }

  #put(id: string, session: LoadedSession): void {
    this.#entries.delete(id);
    this.#entries.set(id, { session, until: this.#now() + this.#ttl });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.#entries.delete(id);
    this.#epoch++;
  }

  /**
   * Turns caching off and empties the cache (while invalidations cannot be received), or back on. Without the
   * invalidation channel a logout on another replica would go unnoticed for up to the TTL.
   */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    if (!enabled) {
      this.#epoch++;
      this.#entries.clear();
      this.#seen.clear();
    }
  }
}

/** Tells every replica that a session changed or ended, so their caches drop it. */
export interface InvalidationBus {
  publish(id: string): Promise<void>;
  close(): Promise<void>;
}
