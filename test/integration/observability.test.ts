import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Keyring } from '../../src/crypto/keyring.js';
import { storeKeys } from '../../src/session/keys.js';
import { Sessions } from '../../src/session/sessions.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { TestClock } from '../support/clock.js';

describe('metrics, readiness, trace context and log redaction', () => {
  const clock = new TestClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ now: clock.now, logLevel: 'debug' });
  });
  after(() => h.close());

  it('a full login, refresh and logout logged at debug level leaves no token, code, cookie or key in any line', async () => {
    const browser = new TestClient();
    await login(h, browser, { redirect: '/echo/x' });
    const sessionCookie = browser.cookie('vestibule.session') ?? '';
    const cookie = `vestibule.session=${sessionCookie}`;
    const sessions = new Sessions({
      store: h.store,
      keyring: new Keyring(Buffer.from(h.encryptionKey, 'base64')),
      keys: storeKeys(`vestibule:${h.clientId}`),
      now: clock.now,
    });
    const before = (await sessions.load(sessionCookie))?.record;
    assert.ok(before?.refreshToken && before.idToken);
    await fetch(`${h.ingress}/echo/y`, { headers: { cookie, authorization: 'Bearer client-sent-secret' } });
    clock.advance(3_600_000);
    await fetch(`${h.ingress}/echo/z`, { headers: { cookie } });
    const afterRefresh = (await sessions.load(sessionCookie))?.record;
    assert.ok(afterRefresh && afterRefresh.accessToken !== before.accessToken, 'a refresh happened');
    const out = await browser.get(`${h.ingress}/oauth2/logout`, NAVIGATION);
    assert.equal(out.status, 302);

    const logs = h.rawLogs();
    assert.ok(logs.split('\n').length > 8, 'logging produced lines');
    assert.match(logs, /"level":"debug"/, 'debug lines were written');
    const jwk = JSON.parse(h.clientJwk) as { d: string };
    const secrets: [string, string][] = [
      ['access token', before.accessToken],
      ['refreshed access token', afterRefresh.accessToken],
      ['refresh token', before.refreshToken],
      ['rotated refresh token', afterRefresh.refreshToken ?? 'x'],
      ['ID token', before.idToken],
      ['session cookie', sessionCookie],
      ['client-sent Authorization', 'client-sent-secret'],
      ['client private key', jwk.d],
    ];
    for (const [name, value] of secrets) assert.equal(logs.includes(value), false, `${name} must not be logged`);
    // The authorization code and state only ever appear in the callback URL's query, which is never logged.
    assert.doesNotMatch(logs, /[?&]code=/);
    assert.doesNotMatch(logs, /[?&]state=/);
    assert.doesNotMatch(logs, /client_assertion/);
  });

  it('one info line per request with method, route class, status, duration, request id and session flag', async () => {
    await fetch(`${h.ingress}/echo/line`, { headers: { 'x-request-id': 'rid-42' } });
    await new Promise((r) => setTimeout(r, 100));
    const line = h.logLines().find((l) => l.msg === 'request' && l.reqId === 'rid-42');
    assert.ok(line, 'request line written');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, 'proxy');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.session, false);
    assert.match(String(line.traceId), /^[0-9a-f]{32}$/);
  });

  it('propagates a valid traceparent and x-request-id upstream, makes new ones otherwise', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const kept = (await (
      await fetch(`${h.ingress}/echo/t`, { headers: { traceparent: tp, 'x-request-id': 'abc-1' } })
    ).json()) as {
      headers: Record<string, string>;
    };
    assert.equal(kept.headers.traceparent, tp);
    assert.equal(kept.headers['x-request-id'], 'abc-1');
    const made = (await (
      await fetch(`${h.ingress}/echo/t`, { headers: { traceparent: 'garbage', 'x-request-id': 'bad id with spaces' } })
    ).json()) as {
      headers: Record<string, string>;
    };
    assert.match(made.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.match(made.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it("a client that leaves before its answer is complete gets an access line (nginx's 499 before the app answered) and is counted", async () => {
    const { request } = await import('node:http');
    /** Sends a GET and destroys it once `ready` says so; resolves when the request is gone. */
    const leave = (path: string, id: string, ready: 'after-ms' | 'first-chunk'): Promise<void> =>
      new Promise((resolve) => {
        const req = request(`${h.ingress}${path}`, { headers: { 'x-request-id': id }, agent: false }, (res) => {
          res.once('data', () => {
            if (ready === 'first-chunk') req.destroy();
          });
        });
        req.on('error', () => undefined);
        req.on('close', () => resolve());
        if (ready === 'after-ms') setTimeout(() => req.destroy(), 200);
        req.end();
      });
    const lineOf = async (id: string): Promise<Record<string, unknown> | undefined> => {
      for (let i = 0; i < 50; i++) {
        const line = h.logLines().find((l) => l.msg === 'request' && l.reqId === id);
        if (line) return line;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    };
    await leave('/slow?ms=1500', 'gone-waiting', 'after-ms');
    await leave('/stream?chunks=20&ms=100', 'gone-reading', 'first-chunk');
    // Before, neither left a line: Fastify's onResponse runs on 'finish', never on a client's 'close'.
    const waiting = await lineOf('gone-waiting');
    assert.ok(waiting, 'a line for the client that left before the app answered');
    assert.equal(waiting.status, 499);
    assert.equal(waiting.route, 'proxy');
    const reading = await lineOf('gone-reading');
    assert.ok(reading, 'a line for the client that left during the body');
    assert.equal(reading.status, 200, 'the status that was sent');
    const text = (await h.admin.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /vestibule_client_gone_total\{phase="waiting"\} [1-9]/);
    assert.match(text, /vestibule_client_gone_total\{phase="reading"\} [1-9]/);
    assert.match(text, /vestibule_http_requests_total\{route="proxy",status="499"\} [1-9]/);
    assert.doesNotMatch(text, /vestibule_upstream_errors_total\{[^}]*\} [1-9]/, 'a client leaving is not an app error');
  });

  it('/metrics exposes bounded series for requests, logins, refreshes, store and IdP calls', async () => {
    const res = await h.admin.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    const text = res.body;
    assert.match(text, /vestibule_http_requests_total\{route="proxy",status="200"\} \d+/);
    assert.match(text, /vestibule_http_requests_total\{route="callback",status="302"\} [1-9]/);
    assert.match(text, /vestibule_logins_total\{outcome="success"\} [1-9]/);
    assert.match(text, /vestibule_logouts_total\{kind="self_initiated"\} [1-9]/);
    assert.match(text, /vestibule_token_refreshes_total\{outcome="refreshed"\} [1-9]/);
    assert.match(text, /vestibule_store_operation_seconds_count\{operation="get"\} [1-9]/);
    assert.match(text, /vestibule_idp_request_seconds_count\{endpoint="token"\} [1-9]/);
    assert.match(text, /vestibule_upstream_response_seconds_count [1-9]/);
    assert.doesNotMatch(text, /\/echo|reqId|oid=|sub=/, 'no raw paths or user ids in labels');
  });

  it('/healthz is alive; /readyz is 503 with the reason while the store is down, 200 again after', async () => {
    assert.equal((await h.admin.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await h.admin.inject({ url: '/readyz' })).statusCode, 200);
    await h.redis.stop();
    try {
      const down = await h.admin.inject({ url: '/readyz' });
      assert.equal(down.statusCode, 503);
      assert.match(down.body, /session store/);
    } finally {
      await h.redis.start();
    }
    for (let i = 0; i < 50; i++) {
      if ((await h.admin.inject({ url: '/readyz' })).statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await h.admin.inject({ url: '/readyz' })).statusCode, 200);
  });
});
