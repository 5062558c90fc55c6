import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '../../src/session/create-store.js';
import { idFromRecordKey, storeKeys } from '../../src/session/keys.js';
import type { SessionStore } from '../../src/session/store.js';
import { sessionStoreContract } from '../contract/session-store-contract.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { infoFields, redisCommand, startRedisCluster, type RedisClusterTopology } from '../support/redis-topology.js';

let plain: RedisClusterTopology;
let replicated: RedisClusterTopology;
let store: SessionStore;

before(
  async () => {
    // Both topologies start in parallel: cluster creation waits on gossip and dominates the run time.
    [plain, replicated] = await Promise.all([
      startRedisCluster({ masters: 3 }),
      startRedisCluster({ masters: 3, replicas: 1 }),
    ]);
    store = await createStore({ kind: 'cluster', nodes: plain.nodes });
  },
  { timeout: 60_000 },
);
after(async () => {
  await store.close();
  await Promise.all([plain.close(), replicated.close()]);
});

/** How often each master ran WAIT since its stats were reset. */
async function waitCalls(topology: RedisClusterTopology): Promise<number[]> {
  return Promise.all(
    topology.masters.map(async (m) => {
      const stat = infoFields(await redisCommand(m.port, 'INFO', 'commandstats')).get('cmdstat_wait');
      return Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? '0');
    }),
  );
}

sessionStoreContract('redis cluster (3 masters)', () => ({ store, wait: (ms) => sleep(ms) }));

describe('durable writes on Redis Cluster', () => {
  it('without replicas, no write waits for one', async () => {
    assert.deepEqual(await waitCalls(plain), [0, 0, 0], 'the contract above wrote, and never ran WAIT');
  });

  it('with replicas, every session write is confirmed by WAIT on the master that owns its key', async () => {
    const warnings: object[] = [];
    const s = await createStore(
      { kind: 'cluster', nodes: replicated.nodes },
      { logger: { warn: (obj) => warnings.push(obj) } },
    );
    try {
      for (const m of replicated.masters) await redisCommand(m.port, 'CONFIG', 'RESETSTAT');
      const keys = Array.from({ length: 12 }, (_, i) => `durable:s:{${i}}`);
      for (const k of keys) await s.set(k, Buffer.from(k), 60_000);
      const held = await Promise.all(replicated.masters.map(async (m) => Number(await redisCommand(m.port, 'DBSIZE'))));
      assert.equal(
        held.reduce((a, b) => a + b, 0),
        12,
      );
      // One WAIT per write, each on the node the write went to (the same connection, so it counts that write).
      assert.deepEqual(await waitCalls(replicated), held);
      assert.ok(held.filter((n) => n > 0).length >= 2, `keys spread over masters: ${JSON.stringify(held)}`);
      assert.deepEqual(warnings, [], 'every write confirmed by a replica in time');
      assert.equal(await s.replace(keys[0]!, Buffer.from('v2')), true);
      assert.equal(await s.delete(...keys), 12);
      assert.equal(
        (await waitCalls(replicated)).reduce((a, b) => a + b, 0),
        12 + 1 + 12,
      );
    } finally {
      await s.close();
    }
  });
});

describe('vestibule on a Redis Cluster', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: { VESTIBULE_REDIS_URL: '', VESTIBULE_REDIS_CLUSTER_NODES: plain.nodesEnv },
      logLevel: 'info',
    });
  });
  after(() => h.close());

  it('logs in, proxies with the session, keeps each session in one slot and spreads sessions over masters', async () => {
    assert.equal(h.config.store.kind, 'cluster');
    const browsers = Array.from({ length: 12 }, () => new TestClient());
    for (const [i, b] of browsers.entries()) {
      const { callback } = await login(h, b, { redirect: `/echo/u${i}`, username: `u${i}@cluster.example` });
      assert.equal(callback.status, 302, `login ${i}`);
    }
    for (const [i, b] of browsers.entries()) {
      const res = await b.get(`${h.ingress}/echo/u${i}`);
      assert.equal(res.status, 200, `proxied request ${i}`);
      const seen = JSON.parse(res.body) as { headers: Record<string, string> };
      const token = /^Bearer (.+)$/.exec(seen.headers.authorization ?? '')?.[1] ?? '';
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
        preferred_username?: string;
      };
      assert.equal(claims.preferred_username, `u${i}@cluster.example`, 'each browser gets its own session');
    }

    // Where each session record lives: every master is asked for the keys it holds.
    const ns = `vestibule:${h.clientId}`;
    const keys = storeKeys(ns);
    const owner = new Map<string, number>();
    for (const m of plain.masters) {
      for (const k of (await redisCommand(m.port, 'KEYS', `${ns}:s:*`)) as string[]) owner.set(k, m.port);
    }
    const records = [...owner.keys()].filter((k) => idFromRecordKey(k) !== undefined);
    assert.equal(records.length, 12, 'one record per login');

    const slots = new Set<number>();
    for (const record of records) {
      const id = idFromRecordKey(record)!;
      const lock = keys.lock(id);
      const port = owner.get(record)!;
      const recordSlot = Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', record));
      assert.equal(Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', lock)), recordSlot, `${record} and its lock`);
      slots.add(recordSlot);
      // The lock, taken through the cluster client, lands on the record's node: one Lua script can use both.
      assert.equal(await h.store.setIfAbsent(lock, 'probe', 5000), true);
      assert.equal(await redisCommand(port, 'GET', lock), 'probe');
      assert.equal(await h.store.deleteIf(lock, 'probe'), true);
    }
    assert.ok(slots.size >= 2, 'sessions get different slots');
    const mastersUsed = new Set(records.map((r) => owner.get(r)));
    assert.ok(mastersUsed.size >= 2, `12 sessions on ${mastersUsed.size} master(s)`);

    // Logout deletes the record on whichever master holds it.
    const out = await browsers[0]!.get(`${h.ingress}/oauth2/logout`, NAVIGATION);
    assert.equal(out.status, 302);
    const after = await Promise.all(plain.masters.map((m) => redisCommand(m.port, 'KEYS', `${ns}:s:*`)));
    assert.equal(after.flat().filter((k) => idFromRecordKey(String(k)) !== undefined).length, 11);
  });
});
