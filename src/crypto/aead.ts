import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyPurpose, Keyring } from './keyring.js';

const VERSION = 1;
const HEADER = 1 + 4 + 12; // version, key id, nonce
const TAG = 16;

/**
 * Encrypts `plaintext` with AES-256-GCM under the current key for `purpose`, a fresh random nonce, and
 * `aad` bound as associated data (the cookie name or the store key), so a value cannot be moved elsewhere.
 * `salt` makes the key specific to one record (the session ticket): the store alone cannot decrypt it.
 */
export function seal(ring: Keyring, purpose: KeyPurpose, plaintext: Buffer, aad: string, salt?: Buffer): Buffer {
  const keyId = ring.currentId;
  const key = ring.derive(purpose, keyId, salt);
  if (!key) throw new RangeError('no current key');
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), keyId, nonce, body, cipher.getAuthTag()]);
}

/** The result of {@link open}: the plaintext, and whether it was sealed with a key other than the current one. */
export interface Opened {
  readonly plaintext: Buffer;
  readonly stale: boolean;
}

/**
 * Decrypts a value made by {@link seal} with any key of the ring. Returns null for anything that does not
 * authenticate — truncated, tampered, foreign key, wrong `aad` — never throws on bad input.
 */
export function open(ring: Keyring, purpose: KeyPurpose, sealed: Buffer, aad: string, salt?: Buffer): Opened | null {
  if (sealed.length < HEADER + TAG || sealed[0] !== VERSION) return null;
  const keyId = sealed.subarray(1, 5);
  const key = ring.derive(purpose, keyId, salt);
  if (!key) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(5, HEADER));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    // GCM is a stream mode: update() yields every byte and final() only checks the tag (it throws on a
    // mismatch), so the plaintext is not copied once more into a concatenation (a session record is ~5 KB).
    const plaintext = decipher.update(sealed.subarray(HEADER, sealed.length - TAG));
    decipher.final();
    return { plaintext, stale: !keyId.equals(ring.currentId) };
  } catch {
    return null;
  }
}
