import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';

// A finding of the security review (issue 15), proved over real sockets: a regression test per attack, named
// after it (docs/security.md, "Review findings fixed (issue 15)").

describe('review (issue 15): cross-site websocket hijacking', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    const browser = new TestClient();
    await login(h, browser);
    cookie = browser.cookieHeader(new URL(h.ingress)) ?? '';
  });
  after(() => h.close());

  /** Opens a websocket as a browser page on `origin` would; resolves with the echo or the refusal. */
  const open = (origin: string | undefined): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/socket`, {
        headers: { cookie },
        ...(origin !== undefined ? { origin } : {}),
      });
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (d: Buffer) => {
        ws.close();
        resolve({ status: 101, body: d.toString() });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('error', (err) => reject(err));
    });

  it('cross-site websocket hijacking: a foreign Origin is refused (403) by vestibule, never tunnelled', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`, `https://${new URL(h.origin).host}`]) {
      const res = await open(origin);
      assert.equal(res.status, 403, `Origin: ${origin}`);
      assert.match(res.body, /"error":"forbidden"/, 'answered by vestibule, not the app');
      assert.doesNotMatch(res.body, /Bearer/);
    }
  });

  it('a websocket from the ingress origin, or without Origin (non-browser clients), opens with the token', async () => {
    assert.match((await open(h.origin)).body, /^Bearer ey.*\|hi$/);
    assert.match((await open(undefined)).body, /^Bearer ey.*\|hi$/);
  });
});
