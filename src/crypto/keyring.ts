import { createHash, hkdfSync } from 'node:crypto';

/** What a derived key is for; each purpose gets its own key so one can never be used as another. */
export type KeyPurpose = 'session-record' | 'session-ticket' | 'login-cookie' | 'logout-cookie' | 'log-hash';

interface RootKey {
  /** 4-byte fingerprint stored in front of every sealed value, so the right key is found after a rotation. */
  readonly id: Buffer;
  readonly secret: Buffer;
}

/**
 * The encryption key and its predecessors. The first key seals; every key opens. Purpose keys are derived
 * with HKDF-SHA256 and cached; per-record keys (salted with the session ticket) are derived on demand.
 */
export class Keyring {
  readonly #roots: readonly RootKey[];
  /** Purpose keys by root (same order as the roots): a hot-path lookup, no string built per call. */
  readonly #purposeKeys: readonly Map<KeyPurpose, Buffer>[];

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    const roots = [current, ...previous].map((secret) => {
      if (secret.length !== 32) throw new RangeError('encryption keys must be 32 bytes');
      return { id: createHash('sha256').update(secret).digest().subarray(0, 4), secret };
    });
    this.#roots = roots;
    this.#purposeKeys = roots.map(() => new Map<KeyPurpose, Buffer>());
  }

  /** The fingerprint of the key that seals new values. */
  get currentId(): Buffer {
    return this.#root(0).id;
  }

  /** Fingerprints of every key, current first. */
  get ids(): readonly Buffer[] {
    return this.#roots.map((r) => r.id);
  }

  /** The purpose key of the root with fingerprint `id` (current when omitted), or undefined if unknown. */
  derive(purpose: KeyPurpose, id?: Buffer, salt?: Buffer): Buffer | undefined {
    const i = id === undefined ? 0 : this.#indexOf(id);
    const root = this.#roots[i];
    if (root === undefined) return undefined;
    if (salt) return Buffer.from(hkdfSync('sha256', root.secret, salt, `vestibule/${purpose}/v1`, 32));
    const cache = this.#purposeKeys[i] as Map<KeyPurpose, Buffer>;
    let key = cache.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', root.secret, Buffer.alloc(0), `vestibule/${purpose}/v1`, 32));
      cache.set(purpose, key);
    }
    return key;
  }

  /** The position of the root with fingerprint `id`, or -1. */
  #indexOf(id: Buffer): number {
    for (let i = 0; i < this.#roots.length; i++) if ((this.#roots[i] as RootKey).id.equals(id)) return i;
    return -1;
  }

  #root(i: number): RootKey {
    const r = this.#roots[i];
    if (!r) throw new RangeError('keyring is empty');
    return r;
  }
}
