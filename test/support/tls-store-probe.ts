/**
 * Run as a child process by the Redis TLS tests: `NODE_EXTRA_CA_CERTS` makes the test CA trusted exactly as an
 * operator would trust a private CA. Reads the VESTIBULE_REDIS_* variables through the real configuration,
 * opens the store with createStore, and round-trips a session (create, load, destroy). Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { Keyring } from '../../src/crypto/keyring.js';
import { loadConfig } from '../../src/config/load.js';
import { createStore } from '../../src/session/create-store.js';
import { storeKeys } from '../../src/session/keys.js';
import { Sessions } from '../../src/session/sessions.js';

const key = randomBytes(32).toString('base64');
const config = loadConfig({
  AZURE_APP_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
  AZURE_APP_WELL_KNOWN_URL: 'http://127.0.0.1:9/t/v2.0/.well-known/openid-configuration',
  AZURE_APP_CLIENT_SECRET: 'unused',
  VESTIBULE_INGRESS: 'http://127.0.0.1:1',
  VESTIBULE_UPSTREAM: 'http://127.0.0.1:2',
  VESTIBULE_ENCRYPTION_KEY: key,
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('VESTIBULE_REDIS_'))),
});
const store = await createStore(config.store);
try {
  const sessions = new Sessions({
    store,
    keyring: new Keyring(Buffer.from(key, 'base64')),
    keys: storeKeys('vestibule:tls-probe'),
    now: Date.now,
  });
  const now = Date.now();
  const { cookieValue } = await sessions.create({
    createdAt: now,
    endsAt: now + 60_000,
    timeoutAt: null,
    refreshedAt: now,
    accessToken: 'access-token-over-tls',
    accessTokenExpiresAt: now + 60_000,
    refreshToken: null,
    idToken: null,
    claims: { sub: 'tls', oid: '11111111-2222-4333-8444-555555555555', sid: 'tls-sid' },
  });
  const loaded = await sessions.load(cookieValue);
  const ended = await sessions.destroyByOid('11111111-2222-4333-8444-555555555555');
  console.log(JSON.stringify({ kind: config.store.kind, accessToken: loaded?.record.accessToken ?? null, ended }));
} finally {
  await store.close();
}
