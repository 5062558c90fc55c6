import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { login } from '../support/mock-login.js';
import { TestClient } from '../support/http-client.js';
import { sendRaw } from '../support/raw-http.js';

// A finding of the security review (issue 15), proved over real sockets: a regression test per attack, named
// after it (docs/security.md, "Review findings fixed (issue 15)").

/** An app that switches to any protocol it is asked for (as an h2c-capable server would), and records it. */
async function startUpgradingApp(): Promise<{ url: string; upgrades: IncomingMessage[]; close(): Promise<void> }> {
  const upgrades: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  server.on('upgrade', (req: IncomingMessage, socket) => {
    upgrades.push(req);
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade ?? ''}\r\n\r\n`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('review (issue 15): only websockets become tunnels', () => {
  let h: Harness;
  let app: Awaited<ReturnType<typeof startUpgradingApp>>;
  let port: number;
  let cookie: string;
  before(async () => {
    app = await startUpgradingApp();
    h = await startHarness({ logLevel: 'warn', env: { VESTIBULE_UPSTREAM: app.url } });
    port = Number(new URL(h.origin).port);
    const browser = new TestClient();
    await login(h, browser);
    cookie = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
  });
  after(async () => {
    await h.close();
    await app.close();
  });

  const upgrade = (method: string, to: string): Promise<Awaited<ReturnType<typeof sendRaw>>> =>
    sendRaw(
      port,
      `${method} /echo HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: ${to}\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 0\r\n\r\n`,
      { method, timeoutMs: 3000 },
    );

  it('h2c smuggling: an Upgrade to anything but websocket is refused (400) and never reaches the app', async () => {
    for (const to of ['h2c', 'HTTP/2.0', 'websocket, h2c', 'tls/1.2']) {
      const res = await upgrade('GET', to);
      assert.equal(res.status, 400, `Upgrade: ${to} → ${res.raw.slice(0, 60)}`);
    }
    assert.equal(app.upgrades.length, 0);
  });

  it('a websocket upgrade with a method other than GET is refused (400), never turned into a GET tunnel', async () => {
    for (const method of ['POST', 'PUT']) {
      const res = await upgrade(method, 'websocket');
      assert.equal(res.status, 400, `${method} → ${res.raw.slice(0, 60)}`);
    }
    assert.equal(app.upgrades.length, 0);
  });

  it('a GET websocket upgrade (any case) is still tunnelled to the app', async () => {
    const before = app.upgrades.length;
    const res = await upgrade('GET', 'WebSocket');
    assert.equal(res.status, 101);
    assert.equal(app.upgrades.length, before + 1);
    assert.match(app.upgrades.at(-1)?.headers.authorization ?? '', /^Bearer ey/);
  });
});
