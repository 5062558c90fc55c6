/**
 * Bounds how often anonymous clients make vestibule call the token endpoint. `/oauth2/login` is stateless and
 * its loop limit lives in a cookie the client controls, so each fresh client can start a login and bring its
 * callback a junk code, buying one token-endpoint call each: enough of them and Entra throttles our client id,
 * and real logins fail. A callback therefore takes a token from its client address's bucket and from one bucket
 * for the whole process before the code is redeemed; a login that completes gives both back (real users are
 * never throttled by their own logins, only by failures).
 */

/** Per client address: a burst of this many callbacks that do not complete a login… */
export const CALLBACK_ADDRESS_BURST = 10;
/** …refilled at this many per minute. */
export const CALLBACK_ADDRESS_PER_MINUTE = 10;
/** The whole process (every address): a burst of this many… */
export const CALLBACK_GLOBAL_BURST = 100;
/** …refilled at this many per second. */
export const CALLBACK_GLOBAL_PER_SECOND = 20;
/** Addresses tracked at most; the least recently seen is forgotten first (a full bucket again). */
const MAX_ADDRESSES = 10_000;

/** A token bucket on an injected clock. */
class Bucket {
  readonly #capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(capacity: number, perMs: number, now: number) {
    this.#capacity = capacity;
    this.#perMs = perMs;
    this.#tokens = capacity;
    this.#at = now;
  }

  #fill(now: number): void {
    if (now > this.#at) this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = Math.max(this.#at, now);
  }

  available(now: number): boolean {
    this.#fill(now);
    return this.#tokens >= 1;
  }

  take(): void {
    this.#tokens -= 1;
  }

  giveBack(now: number): void {
    this.#fill(now);
    this.#tokens = Math.min(this.#capacity, this.#tokens + 1);
  }
}

export type ThrottleScope = 'address' | 'global';

export interface CallbackThrottleOptions {
  readonly now: () => number;
  readonly addressBurst?: number;
  readonly addressPerMinute?: number;
  readonly globalBurst?: number;
  readonly globalPerSecond?: number;
}

/** One per process (shared by every ingress). */
export class CallbackThrottle {
  readonly #now: () => number;
  readonly #addressBurst: number;
  readonly #addressPerMs: number;
  readonly #global: Bucket;
  /** Insertion order is recency order (re-inserted on use), so the first key is the least recently seen. */
  readonly #addresses = new Map<string, Bucket>();

  constructor(o: CallbackThrottleOptions) {
    this.#now = o.now;
    this.#addressBurst = o.addressBurst ?? CALLBACK_ADDRESS_BURST;
    this.#addressPerMs = (o.addressPerMinute ?? CALLBACK_ADDRESS_PER_MINUTE) / 60_000;
    this.#global = new Bucket(
      o.globalBurst ?? CALLBACK_GLOBAL_BURST,
      (o.globalPerSecond ?? CALLBACK_GLOBAL_PER_SECOND) / 1000,
      o.now(),
    );
  }

  /**
   * Takes one token from the address's bucket and the global one, or none and names the scope that refused.
   * The address is checked first, so one noisy client does not drain the global bucket for everyone.
   */
  take(address: string): { ok: true; giveBack: () => void } | { ok: false; scope: ThrottleScope } {
    const now = this.#now();
    const bucket = this.#bucketOf(address, now);
    if (!bucket.available(now)) return { ok: false, scope: 'address' };
    if (!this.#global.available(now)) return { ok: false, scope: 'global' };
    bucket.take();
    this.#global.take();
    return {
      ok: true,
      giveBack: () => {
        const later = this.#now();
        bucket.giveBack(later);
        this.#global.giveBack(later);
      },
    };
  }

  #bucketOf(address: string, now: number): Bucket {
    let bucket = this.#addresses.get(address);
    if (bucket) {
      this.#addresses.delete(address);
    } else {
      bucket = new Bucket(this.#addressBurst, this.#addressPerMs, now);
      if (this.#addresses.size >= MAX_ADDRESSES) this.#forgetOne();
    }
    this.#addresses.set(address, bucket);
    return bucket;
  }

  /** Forgets the least recently seen address (the global bucket still bounds what it could do again). */
  #forgetOne(): void {
    const oldest = this.#addresses.keys().next();
    if (!oldest.done) this.#addresses.delete(oldest.value);
  }
}
