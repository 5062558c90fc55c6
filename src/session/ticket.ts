import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';

const RAW = 32;
const TAG = 16;

/** The secret a session cookie carries, and the store id derived from it. */
export interface Ticket {
  readonly raw: Buffer;
  /** Store id: a one-way hash of the ticket, so a leaked store key cannot be replayed as a cookie. */
  readonly id: string;
  /** True when the cookie was tagged with a previous key and should be re-issued. */
  readonly stale: boolean;
}

function tag(ring: Keyring, raw: Buffer, keyId?: Buffer): Buffer | undefined {
  const key = ring.derive('session-ticket', keyId);
  return key ? createHmac('sha256', key).update(raw).digest().subarray(0, TAG) : undefined;
}

function idOf(raw: Buffer): string {
  // One-shot: no Hash object to make and collect on every session read (the same SHA-256).
  return hash('sha256', raw, 'base64url').slice(0, 32);
}

/** A fresh ticket and its cookie value: 32 random bytes plus a MAC, base64url. */
export function newTicket(ring: Keyring): { ticket: Ticket; cookieValue: string } {
  const raw = randomBytes(RAW);
  const t = tag(ring, raw);
  if (!t) throw new RangeError('no current key');
  return { ticket: { raw, id: idOf(raw), stale: false }, cookieValue: Buffer.concat([raw, t]).toString('base64url') };
}

/** The cookie value for an existing ticket under the current key (used to re-issue a stale cookie). */
export function ticketCookieValue(ring: Keyring, ticket: Ticket): string {
  const t = tag(ring, ticket.raw);
  if (!t) throw new RangeError('no current key');
  return Buffer.concat([ticket.raw, t]).toString('base64url');
}

/**
 * Reads a session cookie value. The MAC is checked before the store is asked, so garbage, truncated or
 * foreign cookies cost no store round trip. Returns null for anything that does not verify.
 */
export function readTicket(ring: Keyring, cookieValue: string | undefined): Ticket | null {
  if (cookieValue?.length !== Math.ceil(((RAW + TAG) * 4) / 3)) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(cookieValue)) return null;
  const bytes = Buffer.from(cookieValue, 'base64url');
  if (bytes.length !== RAW + TAG) return null;
  const raw = bytes.subarray(0, RAW);
  const given = bytes.subarray(RAW);
  for (const [i, keyId] of ring.ids.entries()) {
    const expected = tag(ring, raw, keyId);
    if (expected && timingSafeEqual(expected, given)) return { raw: Buffer.from(raw), id: idOf(raw), stale: i > 0 };
  }
  return null;
}
