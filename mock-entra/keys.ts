/**
 * RSA keys: the mock's own signing keys (a ring that supports Entra-style rollover) and throwaway client keys
 * for `private_key_jwt` tests.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JSONWebKeySet } from 'jose';
import type { JsonWebKey } from './types.js';

/** One signing key of the mock IdP. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  privateJwk: JsonWebKey;
  /** `{kty, n, e}` only; {@link SigningKeyRing.jwks} adds the Entra members. */
  publicJwk: JsonWebKey;
}

type RsaJwk = JsonWebKey & { kid: string; alg: 'RS256' };

async function rsaKeyPair(): Promise<{ privateKey: CryptoKey; privateJwk: JsonWebKey; publicJwk: JsonWebKey }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const [privateJwk, publicJwk] = await Promise.all([exportJWK(privateKey), exportJWK(publicKey)]);
  return { privateKey, privateJwk, publicJwk };
}

/**
 * Entra's `kid` equals its `x5t`: a base64url SHA-1 thumbprint of the certificate. The mock has no certificate,
 * so it hashes the SubjectPublicKeyInfo instead; the shape (27 base64url chars) is the same.
 */
function entraStyleKid(publicJwk: JsonWebKey): string {
  const der = createPublicKey({ key: publicJwk, format: 'jwk' }).export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha1').update(der).digest('base64url');
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, privateJwk, publicJwk } = await rsaKeyPair();
  const kid = entraStyleKid(publicJwk);
  return { kid, privateKey, privateJwk: { ...privateJwk, kid, alg: 'RS256' }, publicJwk };
}

/*
 * 2048-bit RSA generation costs 50–300 ms, and test suites start many mock servers. Signing keys are therefore
 * generated once per process and shared by index: every server starts with key 0 and rotates to 1, 2, …
 * This module-level cache is deliberate (test tooling) and holds no per-server state.
 */
const keyPool: Promise<SigningKey>[] = [];

function pooledSigningKey(index: number): Promise<SigningKey> {
  while (keyPool.length <= index) keyPool.push(createSigningKey());
  const key = keyPool[index];
  if (key === undefined) throw new RangeError(`no pooled signing key at index ${index}`);
  return key;
}

/** The signing keys of one mock server: the current key signs, older keys stay published until removed. */
export class SigningKeyRing {
  #keys: SigningKey[];
  #nextIndex: number;

  private constructor(first: SigningKey) {
    this.#keys = [first];
    this.#nextIndex = 1;
  }

  static async create(): Promise<SigningKeyRing> {
    return new SigningKeyRing(await pooledSigningKey(0));
  }

  /** The key that signs new tokens. */
  current(): SigningKey {
    const key = this.#keys.at(-1);
    if (key === undefined) throw new Error('key ring is empty');
    return key;
  }

  /** A new key signs from now on; the old ones stay in the JWKS (Entra publishes several keys). */
  async rotate(): Promise<void> {
    const key = await pooledSigningKey(this.#nextIndex);
    this.#nextIndex += 1;
    this.#keys.push(key);
  }

  /** Emergency rollover: only the current key stays published. */
  removeOld(): void {
    this.#keys = [this.current()];
  }

  /** Public keys only, for verifying tokens the mock issued (OBO assertions, id_token_hint). */
  publicKeySet(): JSONWebKeySet {
    return { keys: this.#keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'RS256', use: 'sig' })) };
  }

  /** The JWKS document, shaped like Entra's (`kid`, `x5t`, `issuer`; newest key first). */
  jwks(issuer: string): { keys: JsonWebKey[] } {
    const keys = [...this.#keys].reverse().map((k) => ({
      kty: 'RSA' as const,
      use: 'sig',
      kid: k.kid,
      x5t: k.kid,
      n: k.publicJwk.n,
      e: k.publicJwk.e,
      alg: 'RS256' as const,
      issuer,
    }));
    return { keys };
  }
}

/**
 * A fresh RS256 key pair for a test client (`private_key_jwt`). Register `publicJwk` in `MockClient.publicJwks`
 * and sign client assertions with `privateJwk`. `kid` defaults to the RFC 7638 thumbprint.
 */
export async function generateClientJwk(kid?: string): Promise<{ privateJwk: RsaJwk; publicJwk: RsaJwk }> {
  const { privateJwk, publicJwk } = await rsaKeyPair();
  const keyId = kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    privateJwk: { ...privateJwk, kid: keyId, alg: 'RS256' },
    publicJwk: { ...publicJwk, kid: keyId, alg: 'RS256' },
  };
}
