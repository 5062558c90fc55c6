import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness.js';
import { loggedIn } from '../support/mock-login.js';
import { boundedGet } from '../support/bounded-get.js';

// Slow clients: slowloris (headers trickled or stalled) and slow bodies (trickled or stalled, to vestibule's
// own routes and through the proxy). vestibule sets http.headersTimeout 15 s (checked every 2 s),
// requestTimeout 300 s and no idle timeout (src/app.ts). The server must keep serving others while they hang on, and must end them.

/** How long the slow connections may live; the brief allows about 20 s. */
const BOUND_MS = 20_000;
/** 64 MB: more than the kernel's buffers between the client, vestibule and the app hold. */
const BIG_UPLOAD = 64 * 1024 * 1024;

interface SlowConnection {
  readonly kind: string;
  readonly socket: Socket;
  readonly openedAt: number;
  closedAt: number | undefined;
  received: string;
}

function openSlow(
  port: number,
  kind: string,
  first: string,
  trickle: string | undefined,
  everyMs = 1000,
): SlowConnection {
  const socket = connect({ port, host: '127.0.0.1' });
  const c: SlowConnection = { kind, socket, openedAt: Date.now(), closedAt: undefined, received: '' };
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => (c.received += d.toString('latin1')));
  const timer = trickle === undefined ? undefined : setInterval(() => socket.write(trickle), everyMs);
  socket.on('close', () => {
    clearInterval(timer);
    c.closedAt = Date.now();
  });
  socket.write(first);
  return c;
}

async function closedWithin(conns: readonly SlowConnection[], deadline: number): Promise<SlowConnection[]> {
  while (Date.now() < deadline && conns.some((c) => c.closedAt === undefined)) await sleep(250);
  return conns.filter((c) => c.closedAt === undefined);
}

function summary(conns: readonly SlowConnection[]): string {
  const closed = conns.filter((c) => c.closedAt !== undefined).map((c) => (c.closedAt ?? 0) - c.openedAt);
  const status = new Set(conns.map((c) => /^HTTP\/1\.1 (\d{3})/.exec(c.received)?.[1] ?? 'none'));
  return `${conns.length} ${conns[0]?.kind ?? ''}: ${closed.length} closed (after ${closed.length ? `${Math.min(...closed)}-${Math.max(...closed)}` : '-'} ms), answers ${[...status].join(',')}`;
}

describe('slow clients', () => {
  let h: Harness;
  let cookie: string;
  let openedAt: number;
  const loris: SlowConnection[] = [];
  const bodies: SlowConnection[] = [];
  let pipelined: SlowConnection | undefined;
  let backedUp: SlowConnection | undefined;
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    ({ cookie } = await loggedIn(h));
    const port = Number(new URL(h.origin).port);
    openedAt = Date.now();
    for (let i = 0; i < 40; i++)
      loris.push(
        openSlow(port, 'slowloris (trickled headers)', `GET /echo/${i} HTTP/1.1\r\nHost: x\r\n`, `X-Pad-${i}: a\r\n`),
      );
    for (let i = 0; i < 10; i++)
      loris.push(openSlow(port, 'slowloris (stalled headers)', `GET /echo/${i} HTTP/1.1\r\nHost: x\r\n`, undefined));
    const post = (path: string, type: string): string =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 100000\r\n\r\n{`;
    for (let i = 0; i < 5; i++) {
      bodies.push(
        openSlow(
          port,
          'slow body to /oauth2/session/refresh',
          post('/oauth2/session/refresh', 'application/json'),
          ' ',
        ),
      );
      bodies.push(
        openSlow(
          port,
          'stalled body to /oauth2/logout/local',
          post('/oauth2/logout/local', 'application/json'),
          undefined,
        ),
      );
      bodies.push(openSlow(port, 'slow body through the proxy', post('/upload', 'application/octet-stream'), 'a'));
      bodies.push(
        openSlow(port, 'stalled body through the proxy', post('/upload', 'application/octet-stream'), undefined),
      );
    }
    // A complete upload pipelined behind an answer that takes longer than the body timeout (16.5 s against 15 s):
    // its body is read only when it is forwarded, after that answer, so its timer must not run before.
    pipelined = openSlow(
      port,
      'upload pipelined behind a slow answer',
      'GET /slow?ms=16500 HTTP/1.1\r\nHost: x\r\n\r\n' +
        `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2048\r\n\r\n${'a'.repeat(2048)}`,
      undefined,
    );
    // An upload far larger than the sockets on the way hold, to an app that reads nothing for 16.5 s: vestibule
    // stops reading it meanwhile (back-pressure), and that silence is the app's, not the client's.
    backedUp = openSlow(
      port,
      'upload held back by a slow app',
      `POST /upload?startAfterMs=16500 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BIG_UPLOAD}\r\n\r\n`,
      undefined,
    );
    backedUp.socket.write(Buffer.alloc(BIG_UPLOAD, 'u'));
    await sleep(500);
  });
  after(async () => {
    backedUp?.socket.destroy();
    pipelined?.socket.destroy();
    for (const c of [...loris, ...bodies]) c.socket.destroy();
    await h.close();
  });

  it('while 50 slowloris and 20 slow-body connections hang on, others are served (with and without a session)', async () => {
    for (let i = 0; i < 20; i++) {
      const a = await boundedGet(`${h.ingress}/echo/other-${i}`, i % 2 ? { cookie } : {}, 2000);
      assert.equal(a.status, 200);
      assert.equal(a.body.includes('Bearer ey'), i % 2 === 1);
    }
    const meta = await boundedGet(`${h.ingress}/oauth2/session`, { cookie }, 2000);
    assert.equal(meta.status, 200);
    assert.ok(
      [...loris, ...bodies].every((c) => c.closedAt === undefined),
      'the slow ones were all still open meanwhile',
    );
  });

  it(`slowloris connections are ended (408) within ${BOUND_MS / 1000} s`, async (t) => {
    const open = await closedWithin(loris, openedAt + BOUND_MS);
    t.diagnostic(summary(loris.slice(0, 40)));
    t.diagnostic(summary(loris.slice(40)));
    assert.equal(open.length, 0, `${open.length} of ${loris.length} still open after ${BOUND_MS} ms`);
    assert.ok(loris.every((c) => c.received.startsWith('HTTP/1.1 408')));
  });

  it(`stalled bodies (own routes and proxy) and slow bodies to own routes are ended within ${BOUND_MS / 1000} s`, async (t) => {
    const open = await closedWithin(bodies, openedAt + BOUND_MS);
    for (let i = 0; i < 4; i++) t.diagnostic(summary(bodies.filter((_, j) => j % 4 === i)));
    // A slow but live upload through the proxy is allowed to go on (a phone on a bad network): it is bounded by
    // the 5-minute request timeout, not by this test's 20 s.
    assert.deepEqual(
      open.map((c) => c.kind).filter((kind) => kind !== 'slow body through the proxy'),
      [],
    );
    assert.equal(open.filter((c) => c.kind === 'slow body through the proxy').length, 5, 'live uploads keep going');
  });

  it('an upload pipelined behind an answer slower than the body timeout is answered, not cut with it', async () => {
    const answers = (): number => (pipelined?.received.match(/HTTP\/1\.1 200 /g) ?? []).length;
    while (Date.now() < openedAt + BOUND_MS && answers() < 2 && pipelined?.closedAt === undefined) await sleep(250);
    // Before, the queued upload's 15 s body timer ran while nothing read its body, and cut the connection at 15 s
    // with neither answer given.
    assert.equal(answers(), 2, `two answers (${summary(pipelined ? [pipelined] : [])})`);
    assert.match(pipelined?.received ?? '', /slow done[\s\S]*HTTP\/1\.1 200 /, 'in order');
  });

  it('an upload the app is slow to take is not cut for the silence that causes', async () => {
    const answered = (): boolean => backedUp?.received.includes(`"bytes":${BIG_UPLOAD}`) ?? false;
    while (Date.now() < openedAt + BOUND_MS && !answered() && backedUp?.closedAt === undefined) await sleep(250);
    // Before, the 15 s timer on the client's socket ran while back-pressure kept vestibule from reading it, and
    // cut the upload at 15 s.
    assert.ok(answered(), `the whole upload reached the app (${summary(backedUp ? [backedUp] : [])})`);
  });
});
