import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { echoOf } from '../support/echo.js';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { rawGet, sendRaw, type RawResponse } from '../support/raw-http.js';

describe('proxy core: what passes, byte for byte, and what does not', () => {
  let h: Harness;
  let cookie: string;
  let port: number;
  let base: string;
  before(async () => {
    h = await startHarness();
    const browser = new TestClient();
    await login(h, browser);
    cookie = browser.cookieHeader(new URL(h.ingress)) ?? '';
    port = Number(new URL(h.origin).port);
    base = h.ingress.slice(h.origin.length);
  });
  after(() => h.close());

  // Raw bytes on a socket: no client library re-encodes the target or refuses a header sent here.
  const get = (target: string, headers: [string, string][] = []): Promise<RawResponse> =>
    sendRaw(port, rawGet(base + target, [['Cookie', cookie], ...headers]));

  it('the query reaches the app exactly as sent (repeated keys, encodings, bare keys, plus signs)', async () => {
    const target = "/echo/q?a=1&a=2&b=%2F&c&d=%20+x&e=%E2%9C%93&f=a%26b&g='&h=%7e";
    const res = await get(target);
    assert.equal(res.status, 200);
    assert.equal(echoOf(res)?.url, base + target);
  });

  it("the client's hop-by-hop headers, and those its Connection header names, never reach the app", async () => {
    const res = await get('/echo/hop', [
      ['Connection', 'keep-alive, x-hop-secret'],
      ['X-Hop-Secret', '1'],
      ['TE', 'trailers'],
      ['X-Kept', 'k'],
    ]);
    const seen = echoOf(res)?.headers ?? {};
    assert.equal(seen['x-hop-secret'], undefined);
    assert.equal(seen.te, undefined);
    assert.equal(seen['x-kept'], 'k');
    assert.match(seen.authorization ?? '', /^Bearer /);
  });

  it("the app's hop-by-hop headers never reach the client; its other headers and every Set-Cookie do", async () => {
    const res = await get('/hop', [['Connection', 'keep-alive']]);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hop');
    assert.equal(res.headers.get('x-internal'), undefined);
    // vestibule's own connection to the browser has its own keep-alive; the app's never shows.
    assert.notEqual(res.headers.get('keep-alive'), 'timeout=5');
    assert.equal(res.headers.get('x-public'), 'yes');
    const setCookies = res.fields.filter(([name]) => name === 'set-cookie').map(([, value]) => value);
    assert.deepEqual(setCookies, ['app-a=1; Path=/', 'app-b=2; Path=/']);
  });

  it('TRACE is never passed on (an echo would hand the bearer token to the page)', async () => {
    const before = h.upstream.seen.length;
    const res = await sendRaw(port, rawGet(`${base}/echo/trace`, [['Cookie', cookie]]).replace(/^GET/, 'TRACE'));
    const status = res.status ?? 0;
    assert.ok(status >= 400 && status < 500, String(res.status));
    assert.equal(h.upstream.seen.length, before);
  });

  it('websocket subprotocols are negotiated by the browser and the app end to end', async () => {
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/socket`, ['chat.v2', 'chat.v1'], {
      headers: { cookie },
    });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    assert.equal(ws.protocol, 'chat.v2');
    const reply = await new Promise<string>((resolve) => {
      ws.on('message', (d: Buffer) => resolve(d.toString()));
      ws.send('ping');
    });
    assert.match(reply, /^Bearer ey.*\|no-cookie\|ping$/);
    ws.close();
  });

  it("an app's refusal of an upgrade reaches the client as the app's own status", async () => {
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/ws-refused`, { headers: { cookie } });
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 403);
  });

  it('an upgrade to a vestibule route is answered by vestibule and never tunnelled', async () => {
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/oauth2/session`, { headers: { cookie } });
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
    });
    assert.ok(status >= 200 && status < 500, String(status));
  });

  it('open tunnels are counted, and cut when the shutdown grace period ends', async () => {
    const metric = async (): Promise<number | undefined> => (await h.metrics.websockets.get()).values[0]?.value;
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/socket`, { headers: { cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    assert.equal(await metric(), 1);
    assert.ok(Number.isNaN(h.activity()), 'an open websocket keeps the idle compaction away');
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    h.cutTunnels();
    await closed;
    assert.equal(await metric(), 0);
    assert.ok(Number.isFinite(h.activity()));
  });

  it('every request that arrives, and every one answered, moves what the idle compaction watches', async () => {
    const before = h.activity();
    const res = await new TestClient().get(`${h.ingress}/anything`, { cookie });
    assert.equal(res.status, 200);
    // One arrival and one answer.
    assert.equal(h.activity(), before + 2);
  });
});
