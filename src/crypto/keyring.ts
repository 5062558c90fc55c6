import { createHash, hkdfSync } from 'node:crypto';

/** What a derived key is for; each purpose gets its own key so one can never be used as another. */
export type KeyPurpose =
  'session-record' | 'session-ticket' | 'login-cookie' | 'logout-cookie' | 'log-hash' | 'step-up-memory';

interface RootKey {
  /** 4-byte fingerprint stored in front of every sealed value, so the right key is found after a rotation. */
  readonly id: Buffer;
  readonly secret: Buffer;
  /** Its purpose keys, derived on first use: a hot-path lookup, no string built per call. */
  readonly purposeKeys: Map<KeyPurpose, Buffer>;
}

/**
 * The encryption key and its predecessors. The first key seals; every key opens. Purpose keys are derived
 * with HKDF-SHA256 and cached; per-record keys (salted with the session ticket) are derived on demand.
 */
export class Keyring {
  readonly #roots: readonly RootKey[];

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    const roots = [current, ...previous].map((secret) => {
      if (secret.length !== 32) throw new RangeError('encryption keys must be 32 bytes');
      return { id: createHash('sha256').update(secret).digest().subarray(0, 4), secret, purposeKeys: new Map() };
    });
    this.#roots = roots;
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
    const root = id === undefined ? this.#roots[0] : this.#roots.find((r) => r.id.equals(id));
    if (root === undefined) return undefined;
    if (salt) return Buffer.from(hkdfSync('sha256', root.secret, salt, `vestibule/${purpose}/v1`, 32));
    let key = root.purposeKeys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', root.secret, Buffer.alloc(0), `vestibule/${purpose}/v1`, 32));
      root.purposeKeys.set(purpose, key);
    }
    return key;
  }

  #root(i: number): RootKey {
    const r = this.#roots[i];
    if (!r) throw new RangeError('keyring is empty');
    return r;
  }
}
