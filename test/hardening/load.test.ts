import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { mapLimit } from '../support/map-limit.js';
import { untilCallback } from '../support/mock-login.js';

// A bounded load on this shared 2-core machine: LOAD_SESSIONS logins (default 2000, 20 at a time), then
// LOAD_SECONDS (default 15) of proxied and session requests at the machine's capacity, with zero failures;
// afterwards the heap must come back to where it was (vestibule, the mock IdP and the upstream share this
// process, so the comparison is taken after the logins, when the mock's per-login state already exists).

const SESSIONS = Number(process.env.LOAD_SESSIONS ?? 2000);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 15);
const CONCURRENCY = 32;
/** Heap growth allowed across the measured phase (after a warm-up): GC noise, far below a per-request leak. */
const HEAP_TOLERANCE_MB = 16;

/** A real full GC (node:test gives no --expose-gc): the flag can be set at run time, `gc` fetched from a context. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledHeapMb(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Logs in without the authorize page (login → form POST → callback); returns the session cookie value. */
async function quickLogin(h: Harness, i: number): Promise<string> {
  const browser = new TestClient();
  const callbackUrl = await untilCallback(h, browser, { redirect: `/echo/${i}`, username: `user${i % 50}` });
  const callback = await browser.get(callbackUrl, NAVIGATION);
  assert.equal(callback.status, 302, callback.body);
  const value = browser.cookie('vestibule.session');
  assert.ok(value);
  return value;
}

function get(agent: Agent, url: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

describe('bounded load', () => {
  let h: Harness;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
  });
  after(async () => {
    agent.destroy();
    await h.close();
  });

  const cookies: string[] = [];

  it(`${SESSIONS} sessions created by real logins, 20 at a time, all distinct`, async (t) => {
    const started = Date.now();
    cookies.push(
      ...(await mapLimit(
        Array.from({ length: SESSIONS }, (_, i) => i),
        20,
        (i) => quickLogin(h, i),
      )),
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(new Set(cookies).size, SESSIONS);
    t.diagnostic(`${SESSIONS} logins in ${seconds.toFixed(1)} s (${(SESSIONS / seconds).toFixed(0)}/s)`);
  });

  it(`${SECONDS} s of requests at capacity: zero failures, every session's token forwarded, no heap growth after`, async (t) => {
    assert.equal(cookies.length, SESSIONS, 'needs the sessions of the previous test');
    const gc = fullGc();
    const latencies: number[] = [];
    const failures: string[] = [];
    let n = 0;
    /** Requests at capacity for `seconds`: proxied with the session's token, and one in ten session metadata. */
    const burst = async (seconds: number): Promise<void> => {
      const deadline = Date.now() + seconds * 1000;
      const worker = async (): Promise<void> => {
        while (Date.now() < deadline) {
          const i = n++;
          const cookie = `vestibule.session=${cookies[i % cookies.length] ?? ''}; app=1`;
          const path = i % 10 === 0 ? '/oauth2/session' : `/echo/load/${i}`;
          const t0 = performance.now();
          try {
            const res = await get(agent, `${h.ingress}${path}`, cookie);
            latencies.push(performance.now() - t0);
            const ok =
              res.status === 200 &&
              (path === '/oauth2/session'
                ? res.body.includes('"active":true')
                : res.body.includes('"authorization":"Bearer ey'));
            if (!ok) failures.push(`${path}: ${res.status} ${res.body.slice(0, 100)}`);
          } catch (err) {
            failures.push(`${path}: ${(err as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      // The test upstream records every request; forget them so they do not count as vestibule's memory.
      h.upstream.seen.length = 0;
    };
    // Warm-up first (JIT, connection pools, caches), so the comparison only sees what the load itself keeps.
    await burst(2);
    const heapBefore = await settledHeapMb(gc);
    latencies.length = 0;
    await burst(SECONDS);
    await sleep(1000);
    const heapAfter = await settledHeapMb(gc);
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `${latencies.length} requests in ${SECONDS} s = ${(latencies.length / SECONDS).toFixed(0)}/s at concurrency ${CONCURRENCY}; ` +
        `latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, max ${percentile(latencies, 1).toFixed(1)} ms`,
    );
    t.diagnostic(
      `heapUsed ${heapBefore.toFixed(1)} MB before, ${heapAfter.toFixed(1)} MB after (GC'd); rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
    );
    assert.deepEqual(failures.slice(0, 10), []);
    assert.ok(latencies.length > SECONDS * 100, `only ${latencies.length} requests`);
    assert.ok(heapAfter - heapBefore < HEAP_TOLERANCE_MB, `heap grew by ${(heapAfter - heapBefore).toFixed(1)} MB`);
  });
});
