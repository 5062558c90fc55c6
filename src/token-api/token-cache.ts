import { createHash } from 'node:crypto';

/** What the identity provider handed out: the token and its lifetime in seconds. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

/** A token as the API returns it: `expiresIn` is the real remaining lifetime in whole seconds. */
export interface ServedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  /** True when no call to the identity provider was made for this request (a hit, or a coalesced wait). */
  readonly shared: boolean;
}

export interface TokenCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 10 000. */
  readonly maxEntries?: number;
  /** Epoch ms. */
  readonly now?: () => number;
  /** Told the result of every lookup (for metrics). */
  readonly onLookup?: (result: 'hit' | 'miss' | 'coalesced') => void;
}

interface Entry {
  readonly accessToken: string;
  readonly expiresAtMs: number;
  readonly staleAtMs: number;
}

/** Safety margin kept before a token's expiry (Texas: 120 s since 2026-04). */
const EXPIRY_MARGIN_SEC = 120;

/** How long a token is served from the cache: `expires_in − 120 s`, or half of `expires_in` when that is ≤ 120 s. */
export function cacheTtlMs(expiresInSec: number): number {
  return expiresInSec > EXPIRY_MARGIN_SEC ? (expiresInSec - EXPIRY_MARGIN_SEC) * 1000 : expiresInSec * 500;
}

/**
 * Cache key of a client-credentials token: provider + target scope, plus `resource` and `authorization_details`
 * when given (Texas' key: they are part of its `TokenRequest`'s Hash even for Entra ID, which never sees them;
 * `skip_cache` is not part of it). `details` is the canonical JSON text of `authorization_details`. The two are
 * hashed: they are free text of up to the body limit, and the key must not make 10 000 entries cost gigabytes.
 */
export function tokenCacheKey(provider: string, scope: string, resource?: string, details?: string): string {
  if (resource === undefined && details === undefined) return JSON.stringify(['token', provider, scope]);
  const extras = createHash('sha256')
    .update(JSON.stringify([resource ?? null, details ?? null]))
    .digest('base64url');
  return JSON.stringify(['token', provider, scope, extras]);
}

/** Cache key of an on-behalf-of token: provider + target scope + the user token (hashed: keys hold no secrets). */
export function exchangeCacheKey(provider: string, scope: string, userToken: string): string {
  return JSON.stringify(['exchange', provider, scope, createHash('sha256').update(userToken).digest('base64url')]);
}

/**
 * Tokens by key, as Texas caches them: served until `expires_in − 120 s`, bounded (LRU) so memory stays flat,
 * concurrent requests for one key coalesced into a single call to the identity provider, errors never stored.
 */
export class TokenCache {
  readonly #max: number;
  readonly #now: () => number;
  readonly #onLookup: ((result: 'hit' | 'miss' | 'coalesced') => void) | undefined;
  /** Map order is recency order: the first key is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(options: TokenCacheOptions = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
    this.#onLookup = options.onLookup;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The token for `key`: a fresh cached one, else the result of a `load` already under way for the key, else a
   * new `load`. `skipCache` drops the entry first and so always gets a token issued after this call (possibly
   * by a load that other callers started at the same moment); its result replaces the entry.
   */
  async get(key: string, load: () => Promise<IssuedToken>, skipCache = false): Promise<ServedToken> {
    if (skipCache) {
      this.#entries.delete(key);
    } else {
      const hit = this.#fresh(key);
      if (hit) {
        this.#onLookup?.('hit');
        return this.#serve(hit, true);
      }
    }
    const pending = this.#inflight.get(key);
    this.#onLookup?.(pending ? 'coalesced' : 'miss');
    if (pending) return this.#serve(await pending, true);
    return this.#serve(await this.#load(key, load), false);
  }

  #fresh(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (this.#now() >= entry.staleAtMs) return undefined;
    this.#entries.set(key, entry);
    return entry;
  }

  #load(key: string, load: () => Promise<IssuedToken>): Promise<Entry> {
    // Started from a resolved promise so even a synchronous throw in `load` ends up in `promise`.
    const promise = Promise.resolve()
      .then(load)
      .then((issued) => {
        const obtainedAt = this.#now();
        const entry: Entry = {
          accessToken: issued.accessToken,
          expiresAtMs: obtainedAt + issued.expiresIn * 1000,
          staleAtMs: obtainedAt + cacheTtlMs(issued.expiresIn),
        };
        this.#store(key, entry);
        return entry;
      });
    this.#inflight.set(key, promise);
    const settled = (): void => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    };
    promise.then(settled, settled);
    return promise;
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(oldest);
    }
  }

  #serve(entry: Entry, shared: boolean): ServedToken {
    const remaining = Math.floor((entry.expiresAtMs - this.#now()) / 1000);
    return { accessToken: entry.accessToken, expiresIn: Math.max(0, remaining), shared };
  }
}
