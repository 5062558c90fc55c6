import { open, seal } from '../crypto/aead.js';
import type { Keyring } from '../crypto/keyring.js';
import { normaliseOid, type StoreKeys } from './keys.js';
import { hasEnded } from './policy.js';
import { decodeRecord, encodeRecord, type SessionRecord } from './record.js';
import type { InvalidationBus, SessionCache } from './session-cache.js';
import type { SessionStore } from './store.js';
import { newTicket, readTicket, ticketCookieValue, type Ticket } from './ticket.js';

/** A session read from the store for one request. */
export interface LoadedSession {
  readonly ticket: Ticket;
  readonly key: string;
  readonly record: SessionRecord;
  /** Sealed with a previous key: write it again (and re-issue the cookie) to finish a key rotation. */
  readonly stale: boolean;
}

export interface SessionsDeps {
  readonly store: SessionStore;
  readonly keyring: Keyring;
  readonly keys: StoreKeys;
  readonly now: () => number;
  /** Decrypted sessions reused for a moment; omitted = every load reads the store. */
  readonly cache?: SessionCache | undefined;
  /** Where changes are announced to the other replicas' caches. */
  readonly bus?: InvalidationBus | undefined;
}

/**
 * Server-side sessions: the cookie carries only a MAC'd random ticket; the store holds the record sealed with a
 * key derived from the encryption key AND the ticket, bound to its store key. A store dump alone, or a dump plus
 * the encryption key, yields no token.
 */
export class Sessions {
  readonly #d: SessionsDeps;
  /** Cookie values whose MAC already verified: the hot path pays one map lookup instead of an HMAC and a hash. */
  readonly #verified = new Map<string, Ticket>();

  constructor(deps: SessionsDeps) {
    this.#d = deps;
  }

  /** The ticket in a cookie value, or null when its MAC does not verify (no store read). */
  ticketOf(cookieValue: string | undefined): Ticket | null {
    if (cookieValue === undefined) return null;
    const known = this.#verified.get(cookieValue);
    if (known) return known;
    const ticket = readTicket(this.#d.keyring, cookieValue);
    if (ticket) {
      if (this.#verified.size >= 5000) this.#verified.clear();
      this.#verified.set(cookieValue, ticket);
    }
    return ticket;
  }

  /** Stores a new session under a new ticket (a new id every login: no fixation) and indexes it by sid and oid. */
  async create(record: SessionRecord): Promise<{ cookieValue: string; session: LoadedSession }> {
    const { ticket, cookieValue } = newTicket(this.#d.keyring);
    const key = this.#d.keys.record(ticket.id);
    const ttl = Math.max(1000, record.endsAt - this.#d.now());
    await this.#d.store.set(key, this.#seal(record, key, ticket), ttl);
    const oid = record.claims.oid === undefined ? undefined : normaliseOid(record.claims.oid);
    const indexes = [
      record.claims.sid ? this.#d.keys.bySid(record.claims.sid) : undefined,
      oid ? this.#d.keys.byOid(oid) : undefined,
    ].filter((k): k is string => k !== undefined);
    await Promise.all(indexes.map((k) => this.#d.store.addToSet(k, ticket.id, ttl)));
    return { cookieValue, session: { ticket, key, record, stale: false } };
  }

  /**
   * The session for a cookie value, or null: no cookie, bad MAC, absent, undecryptable or past its hard end.
   * An inactive (timed-out) session is returned; callers decide what it may still do.
   */
  async load(cookieValue: string | undefined): Promise<LoadedSession | null> {
    const ticket = this.ticketOf(cookieValue);
    return ticket ? this.loadTicket(ticket) : null;
  }

  /**
   * The session of a verified ticket when the in-process cache holds it under a current key, without waiting;
   * undefined when {@link loadTicket} would have to read the store, decide, or re-issue (the caller asks it).
   */
  cached(ticket: Ticket): LoadedSession | undefined {
    const cached = this.#fromCache(ticket);
    if (!cached || cached.stale || ticket.stale) return undefined;
    return hasEnded(cached.record, this.#d.now()) ? undefined : cached;
  }

  /** The session of a verified ticket, from the short-lived cache or the store. */
  async loadTicket(ticket: Ticket): Promise<LoadedSession | null> {
    const cached = this.#fromCache(ticket);
    if (cached) {
      return hasEnded(cached.record, this.#d.now()) ? null : { ...cached, ticket, stale: cached.stale || ticket.stale };
    }
    const epoch = this.#d.cache?.epoch ?? 0;
    const session = await this.reload(ticket);
    if (session) this.#d.cache?.offer(ticket.id, session, epoch);
    return session;
  }

  /** The cache's entry for this very ticket (same secret, not just the same store id). */
  #fromCache(ticket: Ticket): LoadedSession | undefined {
    const cached = this.#d.cache?.get(ticket.id);
    return cached?.ticket.raw.equals(ticket.raw) ? cached : undefined;
  }

  /** Reads the session of a ticket again (e.g. under the refresh lock, to see another replica's write). */
  async reload(ticket: Ticket): Promise<LoadedSession | null> {
    const key = this.#d.keys.record(ticket.id);
    const sealed = await this.#d.store.get(key);
    if (!sealed) return null;
    const opened = open(this.#d.keyring, 'session-record', sealed, key, ticket.raw);
    const record = opened ? decodeRecord(opened.plaintext) : null;
    if (!opened || !record || hasEnded(record, this.#d.now())) return null;
    return { ticket, key, record, stale: opened.stale || ticket.stale };
  }

  /** Writes a changed record, keeping the TTL; with `fence` only while the caller still holds the lock. */
  async update(
    session: LoadedSession,
    record: SessionRecord,
    fence?: { key: string; token: string },
  ): Promise<boolean> {
    const epoch = this.#d.cache?.epoch ?? 0;
    const written = await this.#d.store.replace(session.key, this.#seal(record, session.key, session.ticket), fence);
    if (written) this.#d.cache?.set(session.ticket.id, { ...session, record, stale: session.ticket.stale }, epoch);
    else this.#d.cache?.delete(session.ticket.id);
    await this.#announce(session.ticket.id);
    return written;
  }

  /** Tells the other replicas' caches that a session changed or ended; never fails the caller. */
  async #announce(id: string): Promise<void> {
    await this.#d.bus?.publish(id).catch(() => undefined);
  }

  /** The cookie value for a session under the current key (re-issued when the cookie was made with an old one). */
  cookieValue(session: LoadedSession): string {
    return ticketCookieValue(this.#d.keyring, session.ticket);
  }

  /** Ends one session. */
  async destroy(session: LoadedSession): Promise<void> {
    this.#d.cache?.delete(session.ticket.id);
    await this.#d.store.delete(session.key);
    await this.#announce(session.ticket.id);
    const { sid } = session.record.claims;
    const oid = session.record.claims.oid === undefined ? undefined : normaliseOid(session.record.claims.oid);
    await Promise.all([
      sid ? this.#d.store.removeFromSet(this.#d.keys.bySid(sid), session.ticket.id) : undefined,
      oid ? this.#d.store.removeFromSet(this.#d.keys.byOid(oid), session.ticket.id) : undefined,
    ]);
  }

  /**
   * Ends every session of one user (the operator's "log this user out everywhere"); returns how many records
   * existed. `oid` is matched in any letter case; a value that is not a GUID is refused with a TypeError (check
   * it first with {@link normaliseOid} to answer 400).
   */
  async destroyByOid(oid: string): Promise<number> {
    const normal = normaliseOid(oid);
    if (normal === undefined) throw new TypeError('oid must be an object id (GUID)');
    return this.destroyIndexed(this.#d.keys.byOid(normal));
  }

  /**
   * Ends every session in an index set (by sid or by oid); returns how many records existed. Each member is
   * removed from the index only once its record is deleted, and only the members read here: a login that
   * completes meanwhile adds a member this call never saw, and it stays indexed for the next logout.
   */
  async destroyIndexed(indexKey: string): Promise<number> {
    const ids = await this.#d.store.setMembers(indexKey);
    let ended = 0;
    // One DEL per record: in a Redis Cluster each record lives in its own slot (the index in another).
    for (const id of ids) {
      this.#d.cache?.delete(id);
      ended += await this.#d.store.delete(this.#d.keys.record(id));
      await this.#announce(id);
      await this.#d.store.removeFromSet(indexKey, id);
    }
    return ended;
  }

  #seal(record: SessionRecord, key: string, ticket: Ticket): Buffer {
    return seal(this.#d.keyring, 'session-record', encodeRecord(record), key, ticket.raw);
  }
}
