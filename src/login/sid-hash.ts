import { createHmac } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';

/**
 * What the logs say instead of an Entra session id (`sid`): HMAC-SHA256 under a key derived from the current
 * encryption key, 16 hex characters. A raw sid in the logs would let anyone who reads them end that session
 * through the unauthenticated front-channel logout; the hash still lets one line be matched with another
 * (login, logout, front-channel logout of the same sid). It changes when the encryption key is rotated.
 */
export function sidHash(keyring: Keyring, sid: string | undefined): string | undefined {
  if (sid === undefined) return undefined;
  const key = keyring.derive('log-hash');
  if (!key) return undefined;
  return createHmac('sha256', key).update(sid, 'utf8').digest('hex').slice(0, 16);
}
