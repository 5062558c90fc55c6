import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { boundedGet } from './bounded-get.js';
import { freePort } from './free-port.js';

describe('boundedGet', () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const sockets = new Set<Socket>();
  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/hang') return;
      if (u.pathname === '/half') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('a'.repeat(50));
        return;
      }
      res.setHeader('x-seen', req.headers['x-probe'] ?? '');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.statusCode = 201;
      res.end('hello');
    });
    server.on('connection', (s: Socket) => {
      connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('resolves with status, headers, body and the time taken, sending the given headers', async () => {
    const a = await boundedGet(`${base}/ok`, { 'x-probe': 'p' }, 2000);
    assert.equal(a.status, 201);
    assert.equal(a.body, 'hello');
    assert.equal(a.headers['x-seen'], 'p');
    assert.deepEqual(a.headers['set-cookie'], ['a=1', 'b=2']);
    assert.ok(a.ms >= 0 && a.ms < 2000, String(a.ms));
  });

  it('rejects with "hung" near the limit when no answer comes, and when the body stops half way', async () => {
    for (const path of ['/hang', '/half']) {
      const started = Date.now();
      await assert.rejects(boundedGet(`${base}${path}`, {}, 300), /^Error: hung: no answer from .* within 300 ms$/);
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 2000, `${path}: gave up after ${took} ms`);
    }
  });

  it('opens a fresh connection per call (no pooled socket shared between calls)', async () => {
    const before = connections;
    await boundedGet(`${base}/ok`, {}, 2000);
    await boundedGet(`${base}/ok`, {}, 2000);
    await boundedGet(`${base}/ok`, {}, 2000);
    assert.equal(connections - before, 3);
  });

  it('rejects with the connection error when nothing listens', async () => {
    const port = await freePort();
    await assert.rejects(boundedGet(`http://127.0.0.1:${port}/`, {}, 2000), { code: 'ECONNREFUSED' });
  });
});
