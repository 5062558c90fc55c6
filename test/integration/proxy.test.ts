import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { freePort } from '../support/free-port.js';

describe('proxy', () => {
  let h: Harness;
  let browser: TestClient;
  before(async () => {
    h = await startHarness();
    browser = new TestClient();
    await login(h, browser);
  });
  after(() => h.close());

  it('websocket: upgraded through the proxy with the bearer token and without our cookie', async () => {
    const cookie = `${browser.cookieHeader(new URL(h.ingress)) ?? ''}; theme=dark`;
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/socket`, { headers: { cookie } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (d: Buffer) => resolve(d.toString()));
      ws.on('error', reject);
    });
    ws.close();
    const [auth, upstreamCookie, message] = reply.split('|');
    assert.match(auth ?? '', /^Bearer ey/);
    assert.equal(upstreamCookie, 'theme=dark');
    assert.equal(message, 'hello');
  });

  it('streams a large upload and a large download without buffering them whole', async () => {
    const size = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 98);
    const expected = createHash('sha256');
    for (let i = 0; i < 64; i++) expected.update(chunk);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) yield chunk;
      })(),
    );
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${h.ingress}/upload`,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } },
        (r) => {
          let text = '';
          r.on('data', (d: Buffer) => (text += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      body.pipe(req);
    });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { bytes: size, sha256: expected.digest('hex') });

    const download = await fetch(`${h.ingress}/download?bytes=${size}`);
    let received = 0;
    for await (const part of download.body as unknown as AsyncIterable<Uint8Array>) received += part.length;
    assert.equal(received, size);
  });

  it('without a session: forwarded unchanged, a client Authorization passes through (the app decides)', async () => {
    const res = await new TestClient().get(`${h.ingress}/echo/anon`, { authorization: 'Bearer client-own' });
    assert.equal(res.status, 200);
    assert.equal(
      (JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization,
      'Bearer client-own',
    );
  });

  it('client-sent forwarding and identity headers never reach the app (any spelling)', async () => {
    const res = await browser.get(`${h.ingress}/echo/headers`, {
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.com',
      'x-forwarded-proto': 'https',
      'x-forwarded-uri': '/admin',
      'x-original-url': '/admin',
      forwarded: 'for=6.6.6.6;host=evil.com',
      x_forwarded_user: 'admin',
      'x.forwarded.email': 'admin@evil.com',
      'x-auth-request-user': 'admin',
      'x-app-header': 'kept',
    });
    const seen = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-host'], new URL(h.ingress).host);
    assert.equal(seen['x-forwarded-proto'], 'http');
    for (const name of [
      'x-forwarded-uri',
      'x-original-url',
      'forwarded',
      'x_forwarded_user',
      'x.forwarded.email',
      'x-auth-request-user',
    ]) {
      assert.equal(seen[name], undefined, name);
    }
    assert.equal(seen['x-app-header'], 'kept');
    assert.ok(seen['x-request-id']);
  });

  it('/oauth2/logout/local ends the session and answers 204', async () => {
    const b = new TestClient();
    await login(h, b);
    // The page's own fetch (Sec-Fetch-Site: same-origin); another site's link is refused (logout-csrf.test.ts).
    const res = await b.get(`${h.ingress}/oauth2/logout/local`, { 'sec-fetch-site': 'same-origin' });
    assert.equal(res.status, 204);
    assert.equal(b.cookie('vestibule.session'), undefined);
    const after = await b.get(`${h.ingress}/echo`);
    assert.equal((JSON.parse(after.body) as { headers: Record<string, string> }).headers.authorization, undefined);
  });
});

describe('proxy with auto-login', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VESTIBULE_AUTO_LOGIN: 'true' } });
  });
  after(() => h.close());

  it('a top-level navigation is redirected to login with the URL to come back to', async () => {
    const res = await new TestClient().get(`${h.ingress}/reports?year=2026`, NAVIGATION);
    assert.equal(res.status, 302);
    assert.equal(res.location, `${h.origin}/oauth2/login?redirect=${encodeURIComponent('/reports?year=2026')}`);
    // A cache must not keep sending later, logged-in visitors of this URL to the login (as for a step-up).
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('fetch/XHR gets 401 JSON with login_url and a Location header, never a redirect', async () => {
    const res = await new TestClient().get(`${h.ingress}/api/data`, {
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
      accept: 'application/json',
      referer: `${h.origin}/page?tab=2`,
    });
    assert.equal(res.status, 401);
    const body = JSON.parse(res.body) as { error: string; login_url: string };
    assert.equal(body.error, 'unauthenticated, please log in');
    assert.equal(body.login_url, `/oauth2/login?redirect=${encodeURIComponent('/page?tab=2')}`);
    assert.equal(res.headers.get('location'), body.login_url);
  });

  it('non-GET methods get 401 (HEAD with an empty body)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
      const res = await new TestClient().request(`${h.ingress}/x`, { method, headers: NAVIGATION });
      assert.equal(res.status, 401, method);
      if (method === 'HEAD') assert.equal(res.body, '');
    }
  });

  it('after login the same navigation reaches the app with a token', async () => {
    const b = new TestClient();
    const { callback } = await login(h, b, { redirect: '/reports' });
    assert.equal(callback.location, `${h.origin}/reports`);
    const res = await b.get(`${h.ingress}/echo/reports`, NAVIGATION);
    assert.equal(res.status, 200);
    assert.match((JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization ?? '', /^Bearer /);
  });
});

describe('upstream down', () => {
  it('answers 502 with a clear body and does not hang', async () => {
    const port = await freePort();
    const h = await startHarness({ env: { VESTIBULE_UPSTREAM: `http://127.0.0.1:${port}` } });
    try {
      const json = await new TestClient().get(`${h.ingress}/anything`, { accept: 'application/json' });
      assert.equal(json.status, 502);
      assert.equal((JSON.parse(json.body) as { error: string }).error, 'bad_gateway');
      const page = await new TestClient().get(`${h.ingress}/anything`, NAVIGATION);
      assert.equal(page.status, 502);
      assert.match(page.body, /not reachable/);
    } finally {
      await h.close();
    }
  });
});
