import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Forwarder } from './forward.js';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET's status and body, or 'timeout' when no answer came within `ms`. */
function fetchWithin(url: string, ms: number): Promise<{ status: number; body: string } | 'timeout'> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', () => undefined);
    const timer = setTimeout(() => {
      req.destroy();
      resolve('timeout');
    }, ms);
  });
}

describe('Forwarder: a client that leaves before its request reaches the app', () => {
  let app: Server;
  let front: Server;
  let forwarder: Forwarder;
  let frontUrl: string;
  const arrived: string[] = [];
  const forwarded: string[] = [];

  before(async () => {
    app = createServer((req, res) => {
      arrived.push(req.url ?? '');
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
      else res.end('ok');
    });
    // One connection to the app: a second request waits in the pool, before undici hands it its abort.
    forwarder = new Forwarder({ upstream: await listen(app), timeoutMs: 5000, connections: 1 });
    front = createServer((req, res) => {
      forwarded.push(req.url ?? '');
      forwarder.forward(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: {}, raw: req, res },
        {
          onResponse: () => undefined,
          onFailure: () => {
            if (!res.headersSent) res.writeHead(502).end();
          },
        },
      );
    });
    frontUrl = await listen(front);
  });
  after(async () => {
    front.closeAllConnections();
    front.close();
    app.closeAllConnections();
    app.close();
    // The test closes it; closed twice, undici rejects.
    await Promise.race([forwarder.close().catch(() => undefined), sleep(1000)]);
  });

  it('frees the connection: the next request is answered, and the pool closes', async () => {
    const slow = fetchWithin(`${frontUrl}/slow`, 3000);
    await sleep(50);
    // Queued behind /slow, then given up by its client before the pool could send it.
    const queued = get(`${frontUrl}/queued`, { agent: false });
    queued.on('error', () => undefined);
    // Given up only once it is in the forwarder (a slow machine must not turn this into a test of nothing).
    for (let i = 0; i < 100 && !forwarded.includes('/queued'); i++) await sleep(10);
    assert.ok(forwarded.includes('/queued'), 'the queued request reached the forwarder');
    queued.destroy();
    assert.deepEqual(await slow, { status: 200, body: 'slow' });
    // Before the fix the queued request was sent when the connection freed up, its answer paused for a client
    // that was gone, and the one connection to the app stayed taken for good: this request never got an answer.
    assert.deepEqual(await fetchWithin(`${frontUrl}/after`, 2000), { status: 200, body: 'ok' });
    const closed = await Promise.race([forwarder.close().then(() => 'closed'), sleep(2000).then(() => 'hung')]);
    assert.equal(closed, 'closed', 'the pool closes: no request is left paused in it');
    assert.ok(arrived.includes('/slow') && arrived.includes('/after'), `the app saw ${arrived.join(', ')}`);
    assert.ok(!arrived.includes('/queued'), 'a request whose client left is not sent to the app');
  });
});
