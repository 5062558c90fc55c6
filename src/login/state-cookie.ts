import { open, seal } from '../crypto/aead.js';
import type { KeyPurpose, Keyring } from '../crypto/keyring.js';

/**
 * Seals a small JSON value into a cookie value (AES-256-GCM, the cookie name bound as associated data,
 * an expiry inside the ciphertext). Used for the short-lived login and logout state.
 */
export function sealCookie(ring: Keyring, purpose: KeyPurpose, name: string, value: object, expiresAt: number): string {
  return seal(ring, purpose, Buffer.from(JSON.stringify({ ...value, exp: expiresAt })), name).toString('base64url');
}

/** Opens a value made by {@link sealCookie}; null when absent, tampered, foreign, renamed or expired. */
export function openCookie(
  ring: Keyring,
  purpose: KeyPurpose,
  name: string,
  raw: string | undefined,
  now: number,
): Record<string, unknown> | null {
  if (!raw || raw.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  const opened = open(ring, purpose, Buffer.from(raw, 'base64url'), name);
  if (!opened) return null;
  try {
    const v = JSON.parse(opened.plaintext.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const rec = v as Record<string, unknown>;
    return typeof rec.exp === 'number' && rec.exp > now ? rec : null;
  } catch {
    return null;
  }
}
