import { isIPv4, isIPv6 } from 'node:net';

/**
 * Bounds how often anonymous clients make vestibule call the token endpoint. `/oauth2/login` is stateless and
 * its loop limit lives in a cookie the client controls, so each fresh client can start a login and bring its
 * callback a junk code, buying one token-endpoint call each: enough of them and Entra throttles our client id,
 * and real logins fail. A callback therefore takes a token from its client address's bucket and from one bucket
 * for the whole process before the code is redeemed; a login that completes gives both back (real users are
 * never throttled by their own logins, only by failures).
 *
 * The per-address bucket needs an address that is the client's. Behind an ingress controller the socket peer
 * is the controller, shared by every user: counting it would let one attacker's junk codes throttle everyone's
 * login. So per-address buckets are kept only when VESTIBULE_TRUSTED_PROXIES names the proxies whose
 * `X-Forwarded-For` then names the client ({@link CallbackThrottleOptions.perAddress}); without it only the
 * global bucket applies. IPv6 clients are counted per /64 ({@link clientKey}): one host owns a whole /64 and
 * could otherwise mint a fresh bucket per address.
 */

/**
 * Per client address: a burst of this many callbacks in flight or refused by the IdP… (an office behind one NAT
 * address logs in together at nine: completed logins give their token back, but they are in flight at once).
 */
export const CALLBACK_ADDRESS_BURST = 30;
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
  /**
   * Whether the address given to {@link CallbackThrottle.take} is the client's (true by default): false when no
   * trusted proxies are configured, where it may be the ingress controller's, and only the global bucket applies.
   */
  readonly perAddress?: boolean;
}

/**
 * The per-address bucket's key: an IPv4 address as is (also when IPv4-mapped, `::ffff:192.0.2.1`), an IPv6
 * address as its /64 (`2001:db8:1:2::/64`, zone dropped), anything else (not an IP) as is.
 */
export function clientKey(address: string): string {
  const bare = address.split('%')[0] ?? '';
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  const groups = (text: string): string[] => {
    if (text === '') return [];
    const parts = text.split(':');
    // A dotted IPv4 tail stands for two groups (past the first 64 bits only when it is at the very end).
    return parts.flatMap((p) => (p.includes('.') ? ['0', '0'] : [p]));
  };
  const [head = '', tail] = bare.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** One per process (shared by every ingress). */
export class CallbackThrottle {
  readonly #now: () => number;
  readonly #addressBurst: number;
  readonly #addressPerMs: number;
  readonly #global: Bucket;
  readonly #perAddress: boolean;
  /** Insertion order is recency order (re-inserted on use), so the first key is the least recently seen. */
  readonly #addresses = new Map<string, Bucket>();

  constructor(o: CallbackThrottleOptions) {
    this.#now = o.now;
    this.#perAddress = o.perAddress ?? true;
    this.#addressBurst = o.addressBurst ?? CALLBACK_ADDRESS_BURST;
    this.#addressPerMs = (o.addressPerMinute ?? CALLBACK_ADDRESS_PER_MINUTE) / 60_000;
    this.#global = new Bucket(
      o.globalBurst ?? CALLBACK_GLOBAL_BURST,
      (o.globalPerSecond ?? CALLBACK_GLOBAL_PER_SECOND) / 1000,
      o.now(),
    );
  }

  /**
   * Takes one token from the address's bucket (its {@link clientKey}; none when per-address buckets are off)
   * and the global one, or none and names the scope that refused. The address is checked first, so one noisy
   * client does not drain the global bucket for everyone.
   */
  take(address: string): { ok: true; giveBack: () => void } | { ok: false; scope: ThrottleScope } {
    const now = this.#now();
    const bucket = this.#perAddress ? this.#bucketOf(clientKey(address), now) : undefined;
    if (bucket && !bucket.available(now)) return { ok: false, scope: 'address' };
    if (!this.#global.available(now)) return { ok: false, scope: 'global' };
    bucket?.take();
    this.#global.take();
    return {
      ok: true,
      giveBack: () => {
        const later = this.#now();
        bucket?.giveBack(later);
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
