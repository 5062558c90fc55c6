import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  redisCommandOver,
  startRedisCluster,
  startRedisSentinel,
  type RedisClusterTopology,
  type RedisSentinelTopology,
} from '../support/redis-topology.js';
import { makeTestCerts, type TestCerts } from '../support/tls-certs.js';

const run = promisify(execFile);

/**
 * Issue 15: with a rediss:// URL, Sentinel and Cluster must speak TLS to every node (Sentinels included), not
 * only where ioredis happens to apply `tls`. The servers here have NO plaintext listener (`--port 0`), so a
 * client that falls back to plaintext anywhere cannot get a session through.
 */
let dir: string;
let certs: TestCerts;
let sentinel: RedisSentinelTopology;
let cluster: RedisClusterTopology;

before(
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'vestibule-tls-'));
    certs = await makeTestCerts(dir);
    const [s, c] = await Promise.allSettled([
      startRedisSentinel({ tls: certs }),
      startRedisCluster({ masters: 3, tls: certs }),
    ]);
    if (s.status === 'rejected' || c.status === 'rejected') {
      for (const r of [s, c]) if (r.status === 'fulfilled') await r.value.close();
      throw s.status === 'rejected' ? s.reason : (c as PromiseRejectedResult).reason;
    }
    sentinel = s.value;
    cluster = c.value;
  },
  // Sentinel discovery takes up to 40 s on a busy machine (redis-topology.ts); the cluster forms meanwhile.
  { timeout: 60_000 },
);
after(async () => {
  // Unset when before() failed (it closed what it had started).
  const started = [sentinel as RedisSentinelTopology | undefined, cluster as RedisClusterTopology | undefined];
  for (const t of started) await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The real configuration and createStore in a process that trusts the test CA the way an operator would. */
async function probe(
  env: Record<string, string>,
): Promise<{ kind: string; accessToken: string | null; ended: number }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '../support/tls-store-probe.ts')],
    {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.caFile, ...env },
      timeout: 20_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    kind: string;
    accessToken: string | null;
    ended: number;
  };
}

async function plaintextPort(port: number): Promise<string> {
  const reply = (await redisCommandOver(certs, port, 'CONFIG', 'GET', 'port')) as string[];
  return reply[1] ?? '';
}

describe('Redis over TLS only (issue 15)', () => {
  it('sentinel plaintext attack: with rediss:// the Sentinels and the master are reached over TLS only', async () => {
    for (const p of [sentinel.master, sentinel.replica]) assert.equal(await plaintextPort(p.port), '0', p.name);
    const out = await probe({
      VESTIBULE_REDIS_SENTINELS: sentinel.sentinelsEnv,
      VESTIBULE_REDIS_SENTINEL_MASTER: sentinel.masterName,
      VESTIBULE_REDIS_URL: 'rediss://ignored/0',
    });
    assert.deepEqual(out, { kind: 'sentinel', accessToken: 'access-token-over-tls', ended: 1 });
  });

  it('cluster plaintext attack: with rediss:// every cluster node is reached over TLS, its certificate checked', async () => {
    for (const p of [...cluster.masters]) assert.equal(await plaintextPort(p.port), '0', p.name);
    const out = await probe({
      VESTIBULE_REDIS_CLUSTER_NODES: cluster.nodesEnv,
      VESTIBULE_REDIS_URL: 'rediss://ignored',
    });
    assert.deepEqual(out, { kind: 'cluster', accessToken: 'access-token-over-tls', ended: 1 });
  });

  it('an untrusted CA is refused: the certificate is really checked', async () => {
    const other = await makeTestCerts(await mkdtemp(join(dir, 'other-')));
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/tls-store-probe.ts')], {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: other.caFile,
          VESTIBULE_REDIS_CLUSTER_NODES: cluster.nodesEnv,
          VESTIBULE_REDIS_URL: 'rediss://ignored',
        },
        timeout: 20_000,
      }),
    );
  });
});
