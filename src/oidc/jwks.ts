import { importJWK, type JWK } from 'jose';

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

export interface JwksCacheOptions {
  readonly jwksUri: string;
  /** How an HTTP GET is made (the provider's fetch, with its timeout and metrics). */
  readonly fetch: (url: string) => Promise<Response>;
  readonly now?: () => number;
  /** Least time between two fetches caused by unknown `kid`s (a storm of forged tokens costs one fetch). */
  readonly cooldownMs?: number;
  /** Background refresh period; Microsoft recommends checking about hourly. */
  readonly refreshIntervalMs?: number;
}

/**
 * The identity provider's signing keys by `kid`. Follows Entra's key-rollover guidance: an unknown `kid`
 * triggers a refetch at most once per cooldown, a failed fetch keeps the last good keys, and a failing JWKS
 * endpoint never makes cached keys unusable. Only RSA signature keys are kept (we accept RS256 only).
 */
export class JwksCache {
  readonly #o: Required<JwksCacheOptions>;
  #keys = new Map<string, VerifyKey>();
  /** When an unknown `kid` last caused a fetch; start-up and periodic fetches do not count. */
  #lastKidFetchAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: JwksCacheOptions) {
    this.#o = { now: Date.now, cooldownMs: 60_000, refreshIntervalMs: 3_600_000, ...options };
  }

  /** Loads the keys now (at start-up); rejects when the endpoint fails and no keys are cached. */
  async load(): Promise<void> {
    await this.#refresh();
    if (this.#keys.size === 0) throw new Error('the identity provider published no usable RS256 signing key');
  }

  /** Starts the periodic background refresh (unref'd: it never keeps the process alive). */
  startRefreshing(onError: (err: unknown) => void): void {
    this.#timer ??= setInterval(() => {
      this.#refresh().catch(onError);
    }, this.#o.refreshIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get size(): number {
    return this.#keys.size;
  }

  /**
   * The key for `kid`, refetching once per cooldown when it is unknown; undefined when it stays unknown.
   * A lookup that arrives while a fetch is under way waits for it, so the burst of requests right after a key
   * rollover all see the new key instead of failing inside the cooldown the first one started.
   */
  async key(kid: string): Promise<VerifyKey | undefined> {
    const known = this.#keys.get(kid);
    if (known) return known;
    let pending = this.#inflight;
    if (!pending && this.#o.now() - this.#lastKidFetchAt >= this.#o.cooldownMs) {
      this.#lastKidFetchAt = this.#o.now();
      pending = this.#refresh();
    }
    if (pending) {
      try {
        await pending;
      } catch {
        // Keep the last good keys; the token simply stays unverifiable.
      }
    }
    return this.#keys.get(kid);
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    const res = await this.#o.fetch(this.#o.jwksUri);
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`JWKS endpoint answered HTTP ${res.status}`);
    }
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error('JWKS document has no "keys" array');
    const next = new Map<string, VerifyKey>();
    for (const jwk of body.keys as JWK[]) {
      if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || (jwk.use && jwk.use !== 'sig')) continue;
      if (jwk.alg && jwk.alg !== 'RS256') continue;
      try {
        next.set(jwk.kid, await importJWK({ ...jwk, alg: 'RS256' }, 'RS256'));
      } catch {
        // A malformed key is skipped, not fatal: the others still verify.
      }
    }
    // An empty or broken answer never replaces keys that work.
    if (next.size > 0) this.#keys = next;
  }
}
