/**
 * Fills a Redis database with many real sessions for target (e): records built like a login's and written
 * through vestibule's own `Sessions` class, so they are sealed, keyed and indexed exactly as in production
 * (record key, `sid` and `oid` index sets, TTLs), under the namespace of the vestibule that will read them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Keyring } from '../src/crypto/keyring.js';
import { createStore } from '../src/session/create-store.js';
import { storeKeys } from '../src/session/keys.js';
import type { SessionRecord } from '../src/session/record.js';
import { Sessions } from '../src/session/sessions.js';

export interface SeedOptions {
  readonly redisUrl: string;
  /** vestibule's AZURE_APP_CLIENT_ID: the key namespace is `vestibule:<client id>`. */
  readonly clientId: string;
  /** vestibule's VESTIBULE_ENCRYPTION_KEY (32 bytes). */
  readonly encryptionKey: Buffer;
  readonly count: number;
  /** How many of the sessions' cookie values to return (for load spread over many sessions). */
  readonly keepCookies?: number;
  /** Session writes in flight at once. */
  readonly concurrency?: number;
  readonly now?: () => number;
}

/** Sizes of real Entra tokens (characters): an access token for an API, an ID token, an opaque refresh token. */
const TOKEN_CHARS = { access: 1600, id: 1200, refresh: 1100 } as const;

/** `n` random base64url characters. */
function randomText(n: number): string {
  return randomBytes(Math.ceil((n * 3) / 4))
    .toString('base64url')
    .slice(0, n);
}

/** A JWT-shaped string of `chars` characters: header, payload and an RS256-sized signature (342 characters). */
function jwtLike(chars: number): string {
  return `${randomText(36)}.${randomText(chars - 36 - 342 - 2)}.${randomText(342)}`;
}

/** One session record as a login on `now` would store it, for a distinct user and IdP session. */
export function seedRecord(now: number, i: number): SessionRecord {
  return {
    createdAt: now,
    endsAt: now + 10 * 3600_000,
    timeoutAt: null,
    refreshedAt: now,
    accessToken: jwtLike(TOKEN_CHARS.access),
    accessTokenExpiresAt: now + 3600_000,
    refreshToken: randomText(TOKEN_CHARS.refresh),
    idToken: jwtLike(TOKEN_CHARS.id),
    claims: {
      sub: randomBytes(32).toString('base64url').slice(0, 43),
      tid: '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69',
      oid: randomUUID(),
      sid: randomUUID(),
      name: `Bench User ${i}`,
      preferredUsername: `bench.user${i}@nav.example`,
    },
  };
}

/** What seeding did: sessions written, seconds taken, and the first `keepCookies` cookie values. */
export interface Seeded {
  readonly written: number;
  readonly seconds: number;
  readonly cookieValues: readonly string[];
}

/** Writes `count` sessions. */
export async function seedSessions(o: SeedOptions): Promise<Seeded> {
  const now = o.now ?? Date.now;
  const store = await createStore({ kind: 'redis', url: o.redisUrl });
  const sessions = new Sessions({
    store,
    keyring: new Keyring(o.encryptionKey),
    keys: storeKeys(`vestibule:${o.clientId}`),
    now,
  });
  const started = process.hrtime.bigint();
  let next = 0;
  let written = 0;
  const cookieValues: string[] = [];
  const keep = o.keepCookies ?? 0;
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      const i = next++;
      const { cookieValue } = await sessions.create(seedRecord(now(), i));
      if (i < keep) cookieValues[i] = cookieValue;
      written++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 200, o.count) }, worker));
  } finally {
    await store.close();
  }
  return { written, seconds: Number(process.hrtime.bigint() - started) / 1e9, cookieValues };
}
