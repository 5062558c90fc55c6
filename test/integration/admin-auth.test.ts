import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';

const SESSION = 'vestibule.session';
const ADMIN_TOKEN = 'op-3f9c1e7a5b2d48c6a0e4f8b1d2c3e4f5a6b7';

const adminUrl = (h: Harness, path: string): string =>
  `http://127.0.0.1:${(h.admin.server.address() as AddressInfo).port}${path}`;

/** A logged-in browser: its cookie and its user's object id. */
async function loggedIn(h: Harness): Promise<{ cookie: string; oid: string }> {
  const b = new TestClient();
  await login(h, b);
  const cookie = `${SESSION}=${b.cookie(SESSION) ?? ''}`;
  const res = await new TestClient().get(`${h.ingress}/echo`, { cookie });
  const auth = (JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization ?? '';
  const claims = JSON.parse(Buffer.from(auth.split('.')[1] ?? '', 'base64url').toString()) as { oid: string };
  return { cookie, oid: claims.oid };
}

async function bearer(h: Harness, cookie: string): Promise<string | undefined> {
  const res = await new TestClient().get(`${h.ingress}/echo`, { cookie });
  return (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

const endSessions = (h: Harness, oid: string, headers: Record<string, string> = {}) =>
  new TestClient().request(adminUrl(h, `/admin/users/${oid}/sessions`), { method: 'DELETE', headers });

describe('admin listener without VESTIBULE_ADMIN_TOKEN', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
  });
  after(() => h.close());

  it('unauthenticated operator call attack: a neighbour reaching the admin port cannot end sessions (404, off)', async () => {
    const user = await loggedIn(h);
    const res = await endSessions(h, user.oid);
    assert.equal(res.status, 404);
    assert.equal((JSON.parse(res.body) as { error: string }).error, 'not_found');
    assert.match((await bearer(h, user.cookie)) ?? '', /^Bearer ey/, 'the session lives on');
  });

  it('probes and metrics stay open for the kubelet and Prometheus', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await new TestClient().get(adminUrl(h, path))).status, 200, path);
    }
  });
});

describe('admin listener with VESTIBULE_ADMIN_TOKEN', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'debug', env: { VESTIBULE_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  after(() => h.close());

  it('unauthenticated operator call attack: no token, a wrong one or another scheme gets 401 and the sessions stay', async () => {
    const user = await loggedIn(h);
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}x` },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      { authorization: ADMIN_TOKEN },
    ];
    for (const headers of attempts) {
      const res = await endSessions(h, user.oid, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.match((await bearer(h, user.cookie)) ?? '', /^Bearer ey/, 'the session lives on');
  });

  it('the right bearer token ends every session of the user; probes and metrics need none', async () => {
    const user = await loggedIn(h);
    const res = await endSessions(h, user.oid.toUpperCase(), { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(res.status, 200, res.body);
    assert.ok((JSON.parse(res.body) as { ended: number }).ended >= 1);
    assert.equal(await bearer(h, user.cookie), undefined);
    const bad = await endSessions(h, 'not-a-guid', { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(bad.status, 400);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      assert.equal((await new TestClient().get(adminUrl(h, path))).status, 200, path);
    }
    assert.equal(h.rawLogs().includes(ADMIN_TOKEN), false, 'the token is never logged');
  });

  it('a short VESTIBULE_ADMIN_TOKEN stops start-up without echoing it', () => {
    const env = {
      AZURE_APP_CLIENT_ID: h.clientId,
      AZURE_APP_WELL_KNOWN_URL: h.mock.wellKnownUrl,
      AZURE_APP_JWK: h.clientJwk,
      VESTIBULE_INGRESS: h.ingress,
      VESTIBULE_UPSTREAM: h.upstream.url,
      VESTIBULE_REDIS_URL: h.redis.url,
      VESTIBULE_ENCRYPTION_KEY: h.encryptionKey,
    };
    assert.throws(
      () => loadConfig({ ...env, VESTIBULE_ADMIN_TOKEN: 'short-secret-123' }),
      (err: Error) =>
        err.message.includes('VESTIBULE_ADMIN_TOKEN must be at least 32') && !err.message.includes('short-secret-123'),
    );
    assert.equal(loadConfig({ ...env, VESTIBULE_ADMIN_TOKEN: ADMIN_TOKEN }).adminToken, ADMIN_TOKEN);
  });
});
