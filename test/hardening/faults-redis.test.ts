import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn, login } from '../support/mock-login.js';
import { boundedGet, type BoundedAnswer } from '../support/bounded-get.js';

// The session store failing under real traffic, with a real redis-server: killed (connection refused), hung
// (CLIENT PAUSE: connected but silent) and restarted. The contract (src/proxy/plugin.ts, routes/*):
// without auto-login proxied requests go on unauthenticated; with auto-login and a session cookie they get
// 503 + Retry-After; session, logout and callback endpoints answer 503; nothing waits longer than the
// 2 s Redis command timeout; vestibule recovers without a restart.

/** Longest any request may take while the store is down or hung (command timeout 2 s, plus slack). */
const HANG_MS = 3500;

function authOf(answer: BoundedAnswer): string | undefined {
  return (JSON.parse(answer.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

/** Polls until `check` holds; the store reconnects with a back-off of at most 2 s. */
async function eventually(what: string, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`${what} did not happen within ${limitMs} ms`);
}

describe('Redis killed and restarted under traffic (no auto-login)', () => {
  let h: Harness;
  /** A session minted while the store is up: only a cookie that passes the MAC makes vestibule ask the store. */
  let cookie: string;
  before(async () => {
    h = await startHarness({ logLevel: 'silent', env: { VESTIBULE_FORWARD_AUTH: 'true' } });
    ({ cookie } = await loggedIn(h));
  });
  after(() => h.close());

  it('traffic keeps flowing (unauthenticated) while Redis is killed, every answer within the bound', async (t) => {
    const answers: { start: number; end: number; status: number; auth: boolean; ms: number }[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const start = Date.now();
        const a = await boundedGet(`${h.ingress}/echo/traffic`, { cookie }, HANG_MS);
        answers.push({ start, end: Date.now(), status: a.status, auth: authOf(a) !== undefined, ms: a.ms });
      }
    };
    const workers = Promise.all(Array.from({ length: 4 }, worker));
    // Counts, not fixed sleeps: on a loaded machine 300 ms may hold only a few answers. Each wait is bounded.
    const enough = async (count: () => number, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (count() <= 10 && Date.now() < deadline) await sleep(50);
    };
    await enough(() => answers.length, 10_000);
    const stopping = Date.now();
    await h.redis.stop();
    const stopped = Date.now();
    await sleep(1500);
    await enough(() => answers.filter((a) => a.start > stopped).length, 10_000);
    running = false;
    await workers;
    const before = answers.filter((a) => a.end < stopping);
    const down = answers.filter((a) => a.start > stopped);
    assert.ok(before.length > 10 && down.length > 10, `${before.length} before, ${down.length} during`);
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.ok(
      before.every((a) => a.auth),
      'with the store up every request carried the token',
    );
    assert.ok(
      down.every((a) => !a.auth),
      'with the store down requests go on without a token',
    );
    t.diagnostic(
      `${answers.length} requests (${down.length} with Redis down), slowest ${Math.max(...answers.map((a) => a.ms))} ms`,
    );
  });

  it('with Redis down: session, refresh, forward-auth, logout and callback answer 503 at once; login still starts', async () => {
    for (const path of [
      '/oauth2/session',
      '/oauth2/session/refresh',
      '/oauth2/session/forwardauth',
      '/oauth2/logout/local',
    ]) {
      // Same-origin Fetch Metadata: logout/local refuses a GET without it (logout-csrf.test.ts).
      const a = await boundedGet(`${h.ingress}${path}`, { cookie, 'sec-fetch-site': 'same-origin' }, HANG_MS);
      assert.equal(a.status, 503, `${path}: ${a.body}`);
    }
    const logout = await boundedGet(`${h.ingress}/oauth2/logout`, { ...NAVIGATION, cookie }, HANG_MS);
    assert.equal(logout.status, 503);
    assert.match(logout.body, /Logout not completed/);
    const start = await boundedGet(`${h.ingress}/oauth2/login`, NAVIGATION, HANG_MS);
    assert.equal(start.status, 302, 'login starts without the store');
    const { callback } = await login(h, new TestClient());
    assert.equal(callback.status, 503, 'the callback cannot spend the state without the store');
  });

  it('Redis restarted: recovery without restarting vestibule; old sessions are gone, new ones work', async (t) => {
    await h.redis.start();
    const ms = await eventually('the store to answer again', 10_000, async () => {
      const a = await boundedGet(`${h.ingress}/oauth2/session`, { cookie }, HANG_MS);
      return a.status === 401;
    });
    const browser = new TestClient();
    const { callback } = await login(h, browser);
    assert.equal(callback.status, 302);
    const fresh = `vestibule.session=${browser.cookie('vestibule.session') ?? ''}`;
    assert.match(
      authOf(await boundedGet(`${h.ingress}/echo/after-restart`, { cookie: fresh }, HANG_MS)) ?? '',
      /^Bearer ey/,
    );
    const old = await boundedGet(`${h.ingress}/echo/old`, { cookie }, HANG_MS);
    assert.equal(old.status, 200);
    assert.equal(authOf(old), undefined, 'this Redis kept nothing, so the old session is gone');
    t.diagnostic(`store reachable again ${ms} ms after redis-server restarted`);
  });
});

describe('Redis hung (CLIENT PAUSE): bounded by the command timeout, sessions kept', () => {
  let h: Harness;
  let control: Redis;
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    control = new Redis(h.redis.url);
  });
  after(async () => {
    control.disconnect();
    await h.close();
  });

  it('answers within the bound while Redis is silent, and the same session works once it answers again', async () => {
    const { cookie } = await loggedIn(h);
    await control.call('CLIENT', 'PAUSE', '4000', 'ALL');
    const paused = Date.now();
    const [proxied, meta] = await Promise.all([
      boundedGet(`${h.ingress}/echo/paused`, { cookie }, HANG_MS),
      boundedGet(`${h.ingress}/oauth2/session`, { cookie }, HANG_MS),
    ]);
    assert.equal(proxied.status, 200);
    assert.equal(authOf(proxied), undefined, 'the request went on without a token');
    assert.equal(meta.status, 503);
    await sleep(Math.max(0, 4200 - (Date.now() - paused)));
    await eventually('the kept session to work again', 5000, async () => {
      const a = await boundedGet(`${h.ingress}/echo/resumed`, { cookie }, HANG_MS);
      return authOf(a)?.startsWith('Bearer ey') === true;
    });
    assert.equal((await boundedGet(`${h.ingress}/oauth2/session`, { cookie }, HANG_MS)).status, 200);
  });
});

describe('Redis killed with auto-login on', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ logLevel: 'silent', env: { VESTIBULE_AUTO_LOGIN: 'true' } });
  });
  after(() => h.close());

  it('a navigation with a session cookie gets 503 + Retry-After (not a login loop); without a cookie, login is offered', async () => {
    const { cookie } = await loggedIn(h);
    await h.redis.stop();
    const withCookie = await boundedGet(`${h.ingress}/reports`, { ...NAVIGATION, cookie }, HANG_MS);
    assert.equal(withCookie.status, 503);
    assert.equal(withCookie.headers['retry-after'], '5');
    const xhr = await boundedGet(`${h.ingress}/api/data`, { cookie, accept: 'application/json' }, HANG_MS);
    assert.equal(xhr.status, 503);
    // No cookie means no store read: the browser is sent to log in, and the callback then answers 503.
    const anonymous = await boundedGet(`${h.ingress}/reports`, NAVIGATION, HANG_MS);
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.location, `/oauth2/login?redirect=${encodeURIComponent('/reports')}`);
    await h.redis.start();
    await eventually('auto-login to work again after the restart', 10_000, async () => {
      const b = new TestClient();
      const { callback } = await login(h, b, { redirect: '/reports' });
      return callback.status === 302 && b.cookie('vestibule.session') !== undefined;
    });
  });
});
