import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Forwarder } from './forward.js';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface FrontOptions {
  /** Told of every client that left or was cut before its answer was out, as `<url> <phase>[ after the end]`. */
  readonly gone?: string[];
  /** Sees every request as it arrives. */
  readonly seen?: (req: IncomingMessage) => void;
  /** Holds a request this long before forwarding it (vestibule's own work first, a refresh at the IdP). */
  readonly holdMs?: (url: string) => number;
}

/** The front server of these tests: forwards every request through `forwarder`, as the proxy's handler does. */
function forwardingServer(forwarder: Forwarder, o: FrontOptions = {}): Server {
  return createServer((req, res) => {
    o.seen?.(req);
    const url = req.url ?? '/';
    const go = (): void =>
      forwarder.forward(
        { method: req.method ?? 'GET', url, headers: {}, raw: req, res },
        {
          onResponse: () => undefined,
          onFailure: () => {
            if (!res.headersSent) res.writeHead(502).end();
          },
          onClientGone: (phase) => o.gone?.push(`${url} ${phase}${res.writableEnded ? ' after the end' : ''}`),
        },
      );
    const hold = o.holdMs?.(url) ?? 0;
    if (hold > 0) setTimeout(go, hold);
    else go();
  });
}

/** Closes the servers (and their connections) and the forwarder, which a test may have closed already. */
async function stopAll(servers: readonly Server[], forwarder: Forwarder): Promise<void> {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  // Closed twice, undici rejects.
  await Promise.race([forwarder.close().catch(() => undefined), sleep(1000)]);
}

/** A raw TCP client of the front server on `port`, connected; its errors (resets by vestibule) are expected. */
async function rawClient(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
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
  const gone: string[] = [];

  before(async () => {
    app = createServer((req, res) => {
      arrived.push(req.url ?? '');
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
      else res.end('ok');
    });
    // One connection to the app: a second request waits in the pool, before undici hands it its abort.
    forwarder = new Forwarder({ upstream: await listen(app), timeoutMs: 5000, sendTimeoutMs: 5000, connections: 1 });
    front = forwardingServer(forwarder, { gone, seen: (req) => forwarded.push(req.url ?? '') });
    frontUrl = await listen(front);
  });
  after(() => stopAll([front, app], forwarder));

  it('a client gone before forward() is called: the app is not asked, and the caller hears of it', async () => {
    const phases: string[] = [];
    const server = createServer((req, res) => {
      res.once('close', () => {
        // vestibule was still deciding (a store read) when the client left.
        forwarder.forward(
          { method: 'GET', url: '/late', headers: {}, raw: req, res },
          { onResponse: () => undefined, onFailure: () => undefined, onClientGone: (p) => phases.push(p) },
        );
      });
    });
    const url = await listen(server);
    try {
      const req = get(`${url}/late`, { agent: false });
      req.on('error', () => undefined);
      await sleep(100);
      req.destroy();
      for (let i = 0; i < 100 && phases.length === 0; i++) await sleep(10);
      assert.deepEqual(phases, ['waiting']);
      await sleep(100);
      assert.ok(!arrived.includes('/late'), 'the app never saw it');
    } finally {
      server.closeAllConnections();
      server.close();
    }
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
    assert.deepEqual(gone, ['/queued waiting'], 'the caller hears of it once, as gone before the answer');
  });
});

/** An answer of `chunks` × 64 KB, written with back-pressure (far more than the sockets on the way hold). */
function bigAnswer(res: import('node:http').ServerResponse, chunks: number, onClose?: () => void): void {
  if (onClose) res.once('close', onClose);
  res.writeHead(200, { 'content-length': String(chunks * 64 * 1024) });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = chunks;
  const pump = (): void => {
    while (left > 0) {
      left--;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** The bytes a raw client has received, counted as it reads. */
function counting(socket: Socket): { bytes: () => number } {
  let n = 0;
  socket.on('data', (c: Buffer) => (n += c.length));
  return { bytes: () => n };
}

describe('Forwarder: a client that reads the answer slowly, or not at all', () => {
  const LIMIT_MS = 400;
  let app: Server;
  let front: Server;
  let forwarder: Forwarder;
  let port: number;
  let frontUrl: string;
  const appClosed = new Map<string, Promise<void>>();
  const gone: string[] = [];

  before(async () => {
    app = createServer((req, res) => {
      const url = req.url ?? '';
      let closed!: () => void;
      appClosed.set(url, new Promise<void>((r) => (closed = r)));
      // 64 MB and 4 MB
      if (url.startsWith('/big')) bigAnswer(res, 1024, closed);
      else if (url.startsWith('/mid')) bigAnswer(res, 64, closed);
      else if (url.startsWith('/trickle')) {
        // 24 chunks of 16 KB, 60 ms apart: an app that streams, each pause well inside the body timeout.
        res.once('close', closed);
        res.writeHead(200, { 'content-length': String(24 * 16 * 1024) });
        let left = 24;
        const tick = (): void => {
          res.write(Buffer.alloc(16 * 1024, 'b'));
          if (--left > 0) setTimeout(tick, 60);
          else res.end();
        };
        tick();
      } else res.end('ok');
    });
    // One connection to the app, so a connection held by a client is a pool held; the send timeout is the limit.
    forwarder = new Forwarder({
      upstream: await listen(app),
      timeoutMs: 5000,
      sendTimeoutMs: LIMIT_MS,
      connections: 1,
    });
    front = forwardingServer(forwarder, { gone });
    frontUrl = await listen(front);
    port = Number(new URL(frontUrl).port);
  });
  after(() => stopAll([front, app], forwarder));

  it('a client that never reads is cut after the timeout, and the app connection it held answers the next request', async () => {
    const reader = await rawClient(port);
    const got = counting(reader);
    reader.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    reader.pause(); // and never reads
    // Before the watch the answer stayed paused for good, and so did the one connection to the app.
    assert.deepEqual(await fetchWithin(`${frontUrl}/after`, 4000), { status: 200, body: 'ok' });
    await Promise.race([appClosed.get('/big'), sleep(1000).then(() => assert.fail("the app's answer was not cut"))]);
    // What was already in the sockets still arrives, then the connection ends, short of the 64 MB.
    const closed = once(reader, 'close');
    reader.resume();
    await Promise.race([closed, sleep(5000).then(() => assert.fail("the client's connection was not closed"))]);
    assert.ok(got.bytes() < 1024 * 64 * 1024, `the answer was cut (got ${got.bytes()} bytes)`);
    assert.ok(gone.includes('/big stalled'), `the caller heard of the cut (${gone.join(', ')})`);
  });

  /** A forwarder and front server of a test's own, so a test that fails leaves the others their connection. */
  async function ownFront(o: { connections: number; holdMs?: (url: string) => number }) {
    const forwarder = new Forwarder({
      upstream: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
      timeoutMs: 5000,
      sendTimeoutMs: LIMIT_MS,
      connections: o.connections,
    });
    const front = forwardingServer(forwarder, o.holdMs ? { holdMs: o.holdMs } : {});
    const port = Number(new URL(await listen(front)).port);
    return { port, stop: () => stopAll([front], forwarder) };
  }

  it('an answer that lasts far longer than the timeout is not cut while its client takes it, pauses included', async () => {
    const own = await ownFront({ connections: 1 });
    try {
      await takenWithPauses(await rawClient(own.port));
    } finally {
      await own.stop();
    }
  });

  async function takenWithPauses(reader: Socket): Promise<void> {
    const got = counting(reader);
    reader.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // Reads for 20 ms, then takes nothing for 150 ms (well below the 400 ms limit), over and over: every pause fills
    // the sockets on the way, and 64 MB this way outlasts the limit several times.
    const ended = once(reader, 'end');
    const state = { done: false };
    void ended.then(() => (state.done = true));
    const started = Date.now();
    while (!state.done && Date.now() - started < 30_000) {
      reader.resume();
      await sleep(20);
      reader.pause();
      await sleep(150);
    }
    reader.resume();
    await Promise.race([ended, sleep(1000).then(() => assert.fail('no end within 30 s'))]);
    assert.ok(Date.now() - started > 2 * 400, 'the answer outlasted the limit (else this tests nothing)');
    assert.ok(got.bytes() > 1024 * 64 * 1024, `the whole 64 MB body arrived (got ${got.bytes()} bytes)`);
  }

  it('a pipelined answer queued behind a slow one is not cut for waiting', async () => {
    // The first answer is held 2.5× the limit before it starts (as vestibule's own work before forwarding can be:
    // a refresh at the IdP), then trickles for 3.5× the limit; the second waits for it with nothing of the
    // client's to time (its answer, queued in Node, was cut when it was sent at once and timed on its own).
    const own = await ownFront({ connections: 2, holdMs: (url) => (url === '/trickle' ? 2.5 * LIMIT_MS : 0) });
    try {
      const client = await rawClient(own.port);
      const got = counting(client);
      client.write('GET /trickle HTTP/1.1\r\nHost: x\r\n\r\nGET /mid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await Promise.race([once(client, 'end'), sleep(10_000).then(() => assert.fail('no end within 10 s'))]);
      assert.ok(got.bytes() > 24 * 16 * 1024 + 64 * 64 * 1024, `both answers arrived whole (got ${got.bytes()} bytes)`);
    } finally {
      await own.stop();
    }
  });
});

describe('Forwarder: pipelined requests', () => {
  it('an answer that breaks: the one before it goes out whole, then the connection closes instead of hanging', async () => {
    const app = createServer((req, res) => {
      if (req.url === '/first') {
        setTimeout(() => res.end('first answer'), 600);
        return;
      }
      // Half a body, then the app's connection breaks.
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(50_000, 'x'));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    // Two connections to the app: /second waits for /first all the same (see the next test).
    const two = new Forwarder({ upstream: await listen(app), timeoutMs: 5000, sendTimeoutMs: 5000, connections: 2 });
    const front = forwardingServer(two);
    const url = new URL(await listen(front));
    const client = await rawClient(Number(url.port));
    try {
      let received = '';
      client.setEncoding('latin1');
      client.on('data', (d: string) => (received += d));
      client.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
      // Answered while queued (before the next test's fix), Node's destroy() of it never cut the connection: 'hung'.
      const end = await Promise.race([once(client, 'close').then(() => 'closed'), sleep(4000).then(() => 'hung')]);
      assert.equal(end, 'closed');
      assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfirst answer/, 'the first answer arrived whole');
      const second = received.slice(received.indexOf('first answer') + 'first answer'.length);
      assert.match(second, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: 100000\r\n/i, 'the second answer began');
      assert.ok(second.length < 100_000, 'and ended short of its length, so the client knows it is broken');
    } finally {
      client.destroy();
      await stopAll([front, app], two);
    }
  });

  it('one connection that never reads, carrying many requests, holds at most one connection to the app', async () => {
    const seen: string[] = [];
    const app = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/first') {
        // A stream: ten small chunks, 100 ms apart (a server-sent events feed), each well inside the limits.
        let left = 10;
        const tick = (): void => {
          res.write('ping\n');
          if (--left > 0) setTimeout(tick, 100);
          else res.end();
        };
        tick();
      } else bigAnswer(res, 1024, () => bigClosed.push(req.url ?? ''));
    });
    const bigClosed: string[] = [];
    const pool = new Forwarder({ upstream: await listen(app), timeoutMs: 5000, sendTimeoutMs: 400, connections: 8 });
    const front = forwardingServer(pool);
    const url = new URL(await listen(front));
    const client = await rawClient(Number(url.port));
    try {
      client.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
      for (let i = 0; i < 6; i++) client.write(`GET /big${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      client.pause(); // and never reads
      await sleep(700);
      // Before the fix every request was sent at once, each answer paused after 16 KB, each holding its app
      // connection for as long as the first answer lasted (here 1 s; an endless feed, for good).
      assert.deepEqual(seen, ['/first'], 'the requests behind it wait for its answer');
      // Then one at a time: the first 64 MB answer fills the sockets and is cut; nothing behind it is sent.
      for (let i = 0; i < 100 && bigClosed.length === 0; i++) await sleep(50);
      assert.deepEqual(bigClosed, ['/big0'], 'the answer the client left unread was cut');
      await sleep(300);
      assert.deepEqual(seen, ['/first', '/big0'], 'and nothing behind it reached the app');
    } finally {
      client.destroy();
      await stopAll([front, app], pool);
    }
  });
});

describe('Forwarder: an answer the app finished, whose tail the client has not taken', () => {
  let app: Server;
  let front: Server;
  let forwarder: Forwarder;
  let port: number;
  let frontSocket: Socket | undefined;
  /** Read through a function: the server sets it between awaits. */
  const socketNow = (): Socket | undefined => frontSocket;
  const gone: string[] = [];

  before(async () => {
    // 4 KB at a time, each once vestibule has passed the one before on, until the client's socket holds unsent
    // bytes (below Node's 16 KB mark, so vestibule's write was not refused and nothing is paused): then the end.
    app = createServer((_req, res) => {
      res.writeHead(200);
      let passedOn = -1;
      const started = Date.now();
      const step = (): void => {
        const s = frontSocket;
        if (Date.now() - started > 15_000) res.destroy();
        else if (s !== undefined && s.writableLength > 0 && s.writableLength < 16 * 1024) res.end();
        else if (s === undefined || s.bytesWritten === passedOn) setImmediate(step);
        else {
          passedOn = s.bytesWritten;
          res.write(Buffer.alloc(4096, 'q'));
          setImmediate(step);
        }
      };
      step();
    });
    forwarder = new Forwarder({ upstream: await listen(app), timeoutMs: 5000, sendTimeoutMs: 400, connections: 1 });
    // `gone` says whether vestibule had ended the answer (the app finished) when the caller heard of it.
    front = forwardingServer(forwarder, { gone, seen: (req) => (frontSocket = req.socket) });
    port = Number(new URL(await listen(front)).port);
  });
  after(() => stopAll([front, app], forwarder));

  async function untilEnded(path: string): Promise<Socket> {
    frontSocket = undefined;
    const client = await rawClient(port);
    client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    client.pause(); // and never reads
    // Until the answer is in vestibule and the client's socket holds unsent bytes.
    for (let i = 0; i < 300 && !(socketNow()?.writableLength ?? 0); i++) await sleep(50);
    return client;
  }

  it('is cut after the send timeout when the client never takes it', async () => {
    const client = await untilEnded('/tail-stalled');
    for (let i = 0; i < 100 && gone.length === 0; i++) await sleep(20);
    assert.deepEqual(gone, ['/tail-stalled stalled after the end'], 'cut, and only once the answer had ended');
    // Node has no send timeout: before, the connection and the answer's buffers were held for good.
    assert.equal(socketNow()?.destroyed, true, "the client's connection was closed");
    client.destroy();
  });

  it('is reported when the client leaves before taking it (no finish comes, so nothing else would)', async () => {
    gone.length = 0;
    const client = await untilEnded('/tail-left');
    // Ended by now: the app's last bytes reached vestibule while the client's socket already held unsent ones.
    await sleep(50);
    client.destroy();
    for (let i = 0; i < 100 && gone.length === 0; i++) await sleep(20);
    assert.deepEqual(gone, ['/tail-left reading after the end']);
  });
});
