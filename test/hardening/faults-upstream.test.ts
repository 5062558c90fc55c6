import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness.js';
import { freePort } from '../support/free-port.js';
import { rawGet, sendRaw } from '../support/raw-http.js';
import { boundedGet } from '../support/bounded-get.js';
import { startFaultyUpstream, type FaultyUpstream } from '../support/faulty-upstream.js';
import { mapLimit } from '../support/map-limit.js';

// The app behind vestibule failing: down (refused), slow (504 after VESTIBULE_UPSTREAM_TIMEOUT), resetting,
// closing, talking garbage, breaking off or stalling a body. Every failure is answered within the timeout,
// nothing is retried, and no socket is leaked (file descriptors of this process counted before and after).

/** Open file descriptors of this process (vestibule, the mock IdP and the upstreams all live in it). */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Descriptors come and go with the Redis client, keep-alive pools and timers: a leak is far bigger than this. */
const FD_NOISE = 12;

async function settledFds(): Promise<number> {
  await sleep(300);
  return openFds();
}

describe('upstream down', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'silent', env: { VESTIBULE_UPSTREAM: `http://127.0.0.1:${await freePort()}` } });
  });
  after(() => h.close());

  it('300 requests (20 at a time) all get 502 at once, and no socket is leaked', async (t) => {
    await boundedGet(`${h.ingress}/warm-up`, { accept: 'application/json' }, 3000);
    const before = await settledFds();
    const statuses = await mapLimit(
      Array.from({ length: 300 }, (_, i) => i),
      20,
      async (i) => {
        const a = await boundedGet(`${h.ingress}/down/${i}`, { accept: 'application/json' }, 3000);
        return a.status;
      },
    );
    assert.deepEqual(new Set(statuses), new Set([502]));
    const afterwards = await settledFds();
    t.diagnostic(`open file descriptors ${before} before, ${afterwards} after`);
    assert.ok(afterwards - before <= FD_NOISE, `file descriptors ${before} → ${afterwards}`);
  });
});

describe('misbehaving upstream (VESTIBULE_UPSTREAM_TIMEOUT=1s)', () => {
  let h: Harness;
  let app: FaultyUpstream;
  before(async () => {
    app = await startFaultyUpstream();
    h = await startHarness({
      logLevel: 'silent',
      env: { VESTIBULE_UPSTREAM: app.url, VESTIBULE_UPSTREAM_TIMEOUT: '1s' },
    });
  });
  after(async () => {
    await h.close();
    await app.close();
  });

  it('reset, close and garbage answer 502, a 64 KB response header 502, each tried once (no retries)', async () => {
    for (const path of ['/reset', '/close', '/garbage', '/huge-header']) {
      const a = await boundedGet(`${h.ingress}${path}`, { accept: 'application/json' }, 3000);
      assert.equal(a.status, 502, `${path}: ${a.body}`);
      assert.equal((JSON.parse(a.body) as { error: string }).error, 'bad_gateway');
      assert.equal(app.hits.get(path), 1, `${path} reached the app once`);
    }
  });

  it('slow: 504 after the 1 s timeout, with the HTML page for a browser', async () => {
    const json = await boundedGet(`${h.ingress}/slow?ms=3000`, { accept: 'application/json' }, 2900);
    assert.equal(json.status, 504);
    assert.ok(json.ms >= 900, `answered after ${json.ms} ms, before the timeout`);
    const page = await boundedGet(
      `${h.ingress}/slow?ms=3000`,
      { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
      2900,
    );
    assert.equal(page.status, 504);
    assert.match(String(page.headers['content-type']), /text\/html/);
    const fast = await boundedGet(`${h.ingress}/slow?ms=100`, {}, 2900);
    assert.equal(fast.status, 200, 'under the timeout is fine');
  });

  it('a body broken off or stalled mid-way: the client connection is closed within the timeout, not left hanging', async () => {
    const port = Number(new URL(h.origin).port);
    const series = async (): Promise<{ broken: number; answered: number }> => {
      const text = (await h.admin.inject({ method: 'GET', url: '/metrics' })).body;
      const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
      return {
        broken: value(/^vestibule_upstream_errors_total\{kind="broken"\} (\d+)/m),
        answered: value(/^vestibule_http_requests_total\{route="proxy",status="200"\} (\d+)/m),
      };
    };
    const before = await series();
    for (const path of ['/cut-body', '/stall-body']) {
      const res = await sendRaw(port, rawGet(path), { timeoutMs: 3000 });
      assert.equal(res.status, 200, path);
      assert.notEqual(res.ended, 'timeout', `${path}: still open after 3 s`);
      assert.notEqual(res.ended, 'complete', `${path}: a broken body must not look complete`);
      assert.ok(res.body.length < 1000);
    }
    // Each is an app error and one answered request (status 200, as sent); before, neither was counted at all.
    const afterwards = await series();
    assert.equal(afterwards.broken - before.broken, 2, 'both counted as broken upstream answers');
    assert.equal(afterwards.answered - before.answered, 2, 'each counted once as a request answered 200');
  });

  it('a burst of every failure (200 requests, 20 at a time) leaks no socket, and the app still answers after it', async (t) => {
    const paths = ['/reset', '/close', '/garbage', '/slow?ms=2500', '/cut-body', '/stall-body', '/ok'];
    await boundedGet(`${h.ingress}/ok`, {}, 3000);
    const before = await settledFds();
    const outcomes = await mapLimit(
      Array.from({ length: 200 }, (_, i) => paths[i % paths.length]!),
      20,
      async (path) => {
        try {
          return (await boundedGet(`${h.ingress}${path}`, { accept: 'application/json' }, 3000)).status;
        } catch (err) {
          // A body cut off mid-way ends the client response with an error: that is the expected outcome there.
          if (path.endsWith('-body')) return 'aborted';
          throw err;
        }
      },
    );
    const expected = (path: string): string[] =>
      path === '/ok'
        ? ['200']
        : path.startsWith('/slow')
          ? ['504']
          : path.endsWith('-body')
            ? ['200', 'aborted']
            : ['502'];
    const unexpected = outcomes
      .map((outcome, i) => `${paths[i % paths.length] ?? ''} ${outcome}`)
      .filter((key) => !expected(key.split(' ')[0] ?? '').includes(key.split(' ')[1] ?? ''));
    assert.deepEqual(unexpected, []);
    await sleep(1500); // stalled bodies time out; their sockets must go too
    const afterwards = await settledFds();
    t.diagnostic(`open file descriptors ${before} before, ${afterwards} after`);
    assert.ok(afterwards - before <= FD_NOISE, `file descriptors ${before} → ${afterwards}`);
    assert.equal((await boundedGet(`${h.ingress}/ok`, {}, 3000)).status, 200);
  });
});
