import type { FastifyBaseLogger } from 'fastify';
import { retryAfterMs } from '../oidc/provider.js';
import type { SessionStore } from './store.js';

/** Shortest back-off after the IdP throttled us, whatever its Retry-After said (0, negative, garbage). */
export const MIN_IDP_BACKOFF_MS = 5_000;
/** Longest back-off for one Retry-After: a bogus huge value must not stop refreshes for days. */
export const MAX_IDP_BACKOFF_MS = 10 * 60_000;
/** How long a replica trusts its own copy of "no back-off" before it reads the store key again. */
export const BACKOFF_RECHECK_MS = 1_000;

/** A back-off of `askedMs` (undefined: the IdP did not say) clamped to [minimum, cap]; `fallbackMs` when unsaid. */
export function clampBackoff(askedMs: number | undefined, fallbackMs: number): number {
  const ms = askedMs !== undefined && Number.isFinite(askedMs) ? askedMs : fallbackMs;
  return Math.min(Math.max(ms, MIN_IDP_BACKOFF_MS), MAX_IDP_BACKOFF_MS);
}

/** An epoch-ms value as the store keeps it; undefined for absent or garbage. */
export function readUntil(value: Buffer | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value.toString());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Writes `until` (epoch ms) to `key`, TTL = what is left of it, unless the key already holds a later time: a
 * shorter back-off never shortens a longer one. A GET then a SET (the store seam has no compare-and-set): two
 * replicas writing in the same instant fall back to last-writer-wins, still never below the minimum.
 */
export async function extendUntil(store: SessionStore, key: string, until: number, now: number): Promise<void> {
  const stored = readUntil(await store.get(key));
  if (stored !== undefined && stored >= until) return;
  await store.set(key, Buffer.from(String(until)), Math.max(1, until - now));
}

export interface ClientBackoffDeps {
  readonly store: SessionStore;
  /** `keys.idpBackoff()`: one key for the client, shared by every replica. */
  readonly key: string;
  readonly now: () => number;
  readonly log: FastifyBaseLogger;
  /** See {@link BACKOFF_RECHECK_MS}. */
  readonly recheckMs?: number;
}

/**
 * Entra throttles the client (our client id), not one session: after a 429 (or a 503 / `temporarily_unavailable`
 * / any answer with Retry-After) no replica sends any refresh grant until the back-off has passed. The back-off
 * lives in the store under one key (value: epoch ms it ends; TTL: the same, so it vanishes on its own) and is
 * read only when a refresh is actually due. Each replica keeps a copy: a known back-off is trusted until it ends;
 * "none" is trusted for {@link BACKOFF_RECHECK_MS}, so a replica reads the key at most about once a second
 * however many sessions come due, and learns of another replica's back-off at most that late (one extra grant
 * per replica at the start of an episode, at worst). A lock waiter reads it afresh (`fresh`).
 *
 * The value is compared with this replica's clock; replicas' clocks that disagree by seconds shift the end by
 * that much, and the TTL bounds it whatever the clocks say. A store that cannot be read counts as no back-off
 * here (the refresh then needs the store for its lock anyway); one that cannot be written leaves the back-off
 * on this replica only, logged.
 */
export class ClientBackoff {
  readonly #d: ClientBackoffDeps;
  #until = 0;
  #readAt = -Infinity;
  #reading: Promise<void> | undefined;

  constructor(deps: ClientBackoffDeps) {
    this.#d = deps;
  }

  /** The end of the back-off this replica knows of, without a store read; undefined when none holds. */
  known(): number | undefined {
    return this.#until > this.#d.now() ? this.#until : undefined;
  }

  /** The end of the client's back-off (epoch ms), or undefined when the IdP may be asked. */
  async until(fresh = false): Promise<number | undefined> {
    const now = this.#d.now();
    if (this.#until > now) return this.#until;
    if (fresh || now - this.#readAt >= (this.#d.recheckMs ?? BACKOFF_RECHECK_MS)) {
      // Due sessions arriving together share one read.
      this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
      await this.#reading;
    }
    return this.known();
  }

  /** Starts (or lengthens) the client's back-off until `until`, here at once and for every replica via the store. */
  async hold(until: number): Promise<void> {
    const now = this.#d.now();
    if (until > this.#until) this.#until = until;
    this.#readAt = now;
    try {
      await extendUntil(this.#d.store, this.#d.key, until, now);
    } catch (err) {
      this.#d.log.warn(
        { err: { message: (err as Error).message } },
        'could not share the identity provider back-off; other replicas may still call it',
      );
    }
  }

  /**
   * Any other call to the token endpoint for this client (an app token for Graph): refused at once while a
   * back-off holds, without asking the IdP, and starting one when the IdP throttles it (an answer with
   * Retry-After), as refreshes and logins do. Rejects with the call's own error, or with one saying until when.
   */
  async guard<T>(call: () => Promise<T>): Promise<T> {
    const until = await this.until();
    if (until !== undefined) {
      throw new Error(`the identity provider is throttling this client until ${new Date(until).toISOString()}`);
    }
    try {
      return await call();
    } catch (err) {
      const asked = retryAfterMs(err);
      if (asked !== undefined) await this.hold(this.#d.now() + clampBackoff(asked, 0));
      throw err;
    }
  }

  async #read(): Promise<void> {
    this.#readAt = this.#d.now();
    try {
      const stored = readUntil(await this.#d.store.get(this.#d.key));
      if (stored !== undefined && stored > this.#until) this.#until = stored;
    } catch {
      // The store is down: the refresh needs it for its lock and will say so.
    }
  }
}
