import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '../../src/session/create-store.js';
import type { SessionStore } from '../../src/session/store.js';
import { sessionStoreContract } from '../contract/session-store-contract.js';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import {
  infoFields,
  redisCommand,
  startRedisSentinel,
  waitUntil,
  type RedisSentinelTopology,
} from '../support/redis-topology.js';

let topo: RedisSentinelTopology;
let store: SessionStore;
const warnings: Record<string, unknown>[] = [];

before(
  async () => {
    topo = await startRedisSentinel();
    store = await createStore(
      {
        kind: 'sentinel',
        sentinels: topo.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        master: topo.masterName,
      },
      { logger: { warn: (obj) => warnings.push(obj as Record<string, unknown>) } },
    );
  },
  // Up to 40 s for the Sentinels to find each other on a busy machine (redis-topology.ts).
  { timeout: 60_000 },
);
after(async () => {
  await store.close();
  await topo.close();
});

sessionStoreContract('redis sentinel (1 master, 1 replica)', () => ({ store, wait: (ms) => sleep(ms) }));

describe('durable writes through Sentinel', () => {
  it('a write returns only once the replica holds it', async () => {
    topo.replica.pause();
    let done = false;
    const write = store.set('durable:s:{a}', Buffer.from('v'), 60_000).then(() => (done = true));
    try {
      await sleep(200);
      assert.equal(done, false, 'the write waits for the paused replica');
      assert.equal(await redisCommand(topo.master.port, 'GET', 'durable:s:{a}'), 'v', 'the master has it already');
    } finally {
      topo.replica.resume();
    }
    await write;
    assert.equal(await redisCommand(topo.replica.port, 'GET', 'durable:s:{a}'), 'v');
    assert.deepEqual(warnings, []);
  });

  it('a write the replica cannot confirm in time still succeeds, and is reported', async () => {
    topo.replica.pause();
    try {
      await store.set('durable:s:{b}', Buffer.from('v'), 60_000);
    } finally {
      topo.replica.resume();
    }
    assert.equal(await redisCommand(topo.master.port, 'GET', 'durable:s:{b}'), 'v');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.op, 'set');
    assert.equal(warnings[0]!.wanted, 1);
    assert.equal(warnings[0]!.acked, 0);
  });
});

interface Outcome {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  /** Whose token the upstream saw (undefined: the request reached it unauthenticated, or did not). */
  readonly user: string | undefined;
}

/** Requests one page as `browser`, noting the user whose token the upstream saw. */
async function request(h: Harness, browser: TestClient): Promise<Outcome> {
  const startedAt = Date.now();
  const res = await browser.get(`${h.ingress}/echo/traffic`);
  let user: string | undefined;
  if (res.status === 200) {
    const seen = JSON.parse(res.body) as { headers: Record<string, string> };
    const token = /^Bearer (.+)$/.exec(seen.headers.authorization ?? '')?.[1];
    if (token) {
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
        preferred_username?: string;
      };
      user = claims.preferred_username;
    }
  }
  return { startedAt, endedAt: Date.now(), status: res.status, user };
}

describe('vestibule through a Sentinel failover', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: {
        VESTIBULE_REDIS_URL: '',
        VESTIBULE_REDIS_SENTINELS: topo.sentinelsEnv,
        VESTIBULE_REDIS_SENTINEL_MASTER: topo.masterName,
      },
      logLevel: 'fatal',
    });
  });
  after(() => h.close());

  it('keeps serving, recovers without a restart, and loses no acknowledged login', { timeout: 60_000 }, async (t) => {
    assert.equal(h.config.store.kind, 'sentinel');
    const oldMaster = await topo.currentMasterPort();
    assert.equal(oldMaster, topo.master.port);

    /** Sessions whose login the browser saw complete (the callback's 302 with the cookie). */
    const users: { browser: TestClient; username: string; at: number }[] = [];
    async function logIn(n: number): Promise<number> {
      const browser = new TestClient();
      const username = `user${n}@sentinel.example`;
      const { callback } = await login(h, browser, { redirect: '/echo/', username });
      if (callback.status === 302 && browser.cookie('vestibule.session'))
        users.push({ browser, username, at: Date.now() });
      return callback.status;
    }
    await redisCommand(oldMaster, 'CONFIG', 'RESETSTAT');
    for (let n = 0; n < 4; n++) assert.equal(await logIn(n), 302);
    // Each login wrote its record and two index entries, each confirmed by the replica before the 302.
    const waits = infoFields(await redisCommand(oldMaster, 'INFO', 'commandstats')).get('cmdstat_wait') ?? '';
    assert.equal(Number(/calls=(\d+)/.exec(waits)?.[1]), 4 * 3, waits);
    const steady = users.slice();

    // Traffic: four users keep requesting while new users keep logging in; the master dies in the middle.
    const run = { stop: false };
    const hardStop = Date.now() + 40_000;
    const requests: Outcome[][] = steady.map(() => []);
    const logins: Omit<Outcome, 'user'>[] = [];
    const traffic = steady.map(async (u, i) => {
      while (!run.stop && Date.now() < hardStop) {
        requests[i]!.push(await request(h, u.browser));
        await sleep(20);
      }
    });
    const signups = (async () => {
      for (let n = steady.length; !run.stop && Date.now() < hardStop; n++) {
        const startedAt = Date.now();
        const status = await logIn(n);
        logins.push({ startedAt, endedAt: Date.now(), status });
        await sleep(20);
      }
    })();
    const ok = (o: Outcome, i: number): boolean => o.status === 200 && o.user === steady[i]!.username;

    let killedAt = 0;
    try {
      await sleep(1000);
      killedAt = Date.now();
      await topo.master.kill('SIGKILL');

      /** When user `i` first got through again after its last failure following the kill, if it has. */
      const recoveredAt = (i: number): number | undefined => {
        const list = requests[i]!;
        const lastFailure = list.findLast((o) => !ok(o, i));
        if (!lastFailure || lastFailure.endedAt < killedAt) return undefined;
        return list.find((o) => ok(o, i) && o.startedAt >= lastFailure.endedAt)?.endedAt;
      };
      await waitUntil('proxied requests to recover after the failover', 30_000, () =>
        Promise.resolve(steady.every((_, i) => recoveredAt(i) !== undefined)),
      );
      const newMaster = await topo.waitForFailover(oldMaster, 10_000);
      await sleep(500);
      const recoveryMs = Math.max(...steady.map((_, i) => recoveredAt(i)!)) - killedAt;
      const afterKill = requests.map((list) => list.filter((o) => o.startedAt >= killedAt));
      const failed = afterKill.flatMap((list, i) => list.filter((o) => !ok(o, i)));
      const failedLogins = logins.filter((o) => o.status !== 302);
      t.diagnostic(
        `failover ${oldMaster} -> ${newMaster}: requests recovered ${(recoveryMs / 1000).toFixed(2)} s after SIGKILL; ` +
          `${failed.length} of ${afterKill.flat().length} requests after the kill not served with the session ` +
          `(statuses ${JSON.stringify([...new Set(failed.map((o) => o.status))])}); ` +
          `${failedLogins.length} of ${logins.length} logins during the traffic failed ` +
          `(statuses ${JSON.stringify([...new Set(failedLogins.map((o) => o.status))])}); ` +
          `${users.length} logins acknowledged, ${users.filter((u) => u.at <= killedAt).length} before the kill`,
      );

      assert.notEqual(newMaster, oldMaster);
      assert.ok(failed.length > 0, 'the kill was noticed');
      // An outage never ends a session: nothing is answered as "log in again" (a redirect or a 401).
      assert.deepEqual(
        failed.filter((o) => o.status !== 503 && !(o.status === 200 && o.user === undefined)),
        [],
        'during the outage a request is refused (503) or passed on unauthenticated',
      );
      assert.deepEqual(
        failedLogins.filter((o) => o.status !== 503),
        [],
        'a login fails only as "unavailable, retry"',
      );
      assert.ok(
        afterKill.every((list, i) => list.slice(-5).every((o) => ok(o, i))),
        'requests keep succeeding after recovery',
      );
      assert.ok(users.filter((u) => u.at <= killedAt).length > steady.length, 'logins completed during the traffic');
    } finally {
      run.stop = true;
      await Promise.all([...traffic, signups]);
    }

    // Every login the browser saw complete, before or after the kill, works on the new master.
    for (const [i, u] of users.entries()) {
      const o = await request(h, u.browser);
      assert.deepEqual([o.status, o.user], [200, u.username], `session ${i} of ${users.length}`);
    }
  });
});
