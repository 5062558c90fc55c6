import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { Address } from '../../src/config/settings.js';
import { freePort } from './free-port.js';
import type { TestCerts } from './tls-certs.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** One redis-server or sentinel process of a topology, which a fault test can kill, pause and restart. */
export interface RedisProcess {
  readonly name: string;
  readonly port: number;
  readonly running: boolean;
  /** Sends `signal` (SIGKILL by default: no clean shutdown, like a crashed pod) and waits for the exit. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** SIGSTOP / SIGCONT: the process keeps its sockets but stops answering (a hung node, a lagging replica). */
  pause(): void;
  resume(): void;
  /** Starts the process again with the same arguments and port (a cluster node keeps its node id). */
  restart(): Promise<void>;
}

/**
 * Runs one command on the server at `port` over a fresh connection. Fails fast (no retries, short timeouts)
 * so that polling a dead node is cheap.
 */
export async function redisCommand(port: number, ...args: (string | number)[]): Promise<unknown> {
  return redisCommandOver(undefined, port, ...args);
}

/** {@link redisCommand} over TLS when `tls` is given (trusting its CA), for topologies with only a TLS port. */
export async function redisCommandOver(
  tls: TestCerts | undefined,
  port: number,
  ...args: (string | number)[]
): Promise<unknown> {
  const r = new Redis({
    host: HOST,
    port,
    ...(tls ? { tls: { ca: readFileSync(tls.caFile) } } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const [name, ...rest] = args;
    return await r.call(String(name), ...rest);
  } finally {
    r.disconnect();
  }
}

/** Polls `check` every 100 ms until it returns true; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
}

/** `field:value` lines of an INFO reply, as a map. */
export function infoFields(info: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of String(info).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** A flat [k1, v1, k2, v2 …] reply (SENTINEL MASTER), as a map. */
function pairs(reply: unknown): Map<string, string> {
  const a = Array.isArray(reply) ? (reply as unknown[]).map(String) : [];
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < a.length; i += 2) out.set(a[i]!, a[i + 1]!);
  return out;
}

interface Managed extends RedisProcess {
  start(): Promise<void>;
}

function managed(name: string, port: number, args: readonly string[], dir: string, tls?: TestCerts): Managed {
  let proc: ChildProcess | undefined;
  const logFile = join(dir, `${name}.log`);

  async function start(): Promise<void> {
    const p = spawn('redis-server', [...args, '--logfile', logFile], { cwd: dir, stdio: 'ignore' });
    proc = p;
    const exited = once(p, 'exit').then(async ([code]) => {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`${name} exited with ${String(code)}: ${log.slice(-2000)}`);
    });
    const up = waitUntil(
      `${name} on port ${port}`,
      10_000,
      async () => (await redisCommandOver(tls, port, 'PING')) === 'PONG',
    );
    try {
      await Promise.race([up, exited]);
    } finally {
      exited.catch(() => undefined);
      up.catch(() => undefined);
    }
  }

  return {
    name,
    port,
    get running() {
      return proc?.exitCode === null && proc.signalCode === null;
    },
    async kill(signal = 'SIGKILL') {
      const p = proc;
      proc = undefined;
      if (p?.exitCode !== null || p.signalCode !== null) return;
      const exit = once(p, 'exit');
      p.kill('SIGCONT'); // a paused process cannot act on SIGTERM
      p.kill(signal);
      await exit;
    },
    pause() {
      proc?.kill('SIGSTOP');
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    start,
    restart: start,
  };
}

const BASE_ARGS = ['--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no'];

/**
 * Where a server listens: `port` in plaintext, or with `tls` ONLY over TLS on `port` (`--port 0`: no plaintext
 * listener at all, so a client that does not speak TLS cannot get through), replicating over TLS too.
 */
function listenArgs(port: number, tls: TestCerts | undefined): string[] {
  if (!tls) return ['--port', String(port)];
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    tls.certFile,
    '--tls-key-file',
    tls.keyFile,
    '--tls-ca-cert-file',
    tls.caFile,
    '--tls-auth-clients',
    'no',
    '--tls-replication',
    'yes',
  ];
}

async function stopAll(processes: readonly RedisProcess[], dir: string): Promise<void> {
  await Promise.all(processes.map((p) => p.kill()));
  await rm(dir, { recursive: true, force: true });
}

async function startAll(processes: readonly Managed[], dir: string): Promise<void> {
  try {
    await Promise.all(processes.map((p) => p.start()));
  } catch (err) {
    await stopAll(processes, dir);
    throw err;
  }
}

/** A Redis Cluster on 127.0.0.1: `masters` masters, each with `replicas` replicas. */
export interface RedisClusterTopology {
  readonly masters: readonly RedisProcess[];
  readonly replicas: readonly RedisProcess[];
  /** Every node, for `createStore({ kind: 'cluster', nodes })`. */
  readonly nodes: readonly Address[];
  /** The same, as VESTIBULE_REDIS_CLUSTER_NODES expects it. */
  readonly nodesEnv: string;
  close(): Promise<void>;
}

/**
 * A port from freePort() is free when read, not when redis-server binds it: another process on the machine
 * can take it in between. Such a start is tried again on fresh ports (twice at most); any other failure is final.
 */
async function onFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !(err as Error).message.includes('Address already in use')) throw err;
    }
  }
}

export function startRedisCluster(o: Parameters<typeof startRedisClusterOnce>[0]): Promise<RedisClusterTopology> {
  return onFreshPorts(() => startRedisClusterOnce(o));
}

async function startRedisClusterOnce(o: {
  masters: number;
  replicas?: 0 | 1;
  /** Only TLS: clients, replication and the cluster bus. */
  tls?: TestCerts;
}): Promise<RedisClusterTopology> {
  const tls = o.tls;
  const cmd = (port: number, ...args: (string | number)[]) => redisCommandOver(tls, port, ...args);
  const replicasPer = o.replicas ?? 0;
  const total = o.masters * (1 + replicasPer);
  const dir = await mkdtemp(join(tmpdir(), 'vestibule-cluster-'));
  const processes: Managed[] = [];
  for (let i = 0; i < total; i++) {
    const port = await freePort();
    // The bus port is explicit: the default port+10000 may be taken or beyond 65535.
    const busPort = await freePort();
    processes.push(
      managed(
        `cluster-${i}`,
        port,
        [
          ...listenArgs(port, tls),
          ...(tls ? ['--tls-cluster', 'yes'] : []),
          ...BASE_ARGS,
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '1000',
          // CLUSTER SLOTS hides a replica until its replication offset moves; pings move it without writes.
          '--repl-ping-replica-period',
          '1',
        ],
        dir,
        tls,
      ),
    );
  }
  await startAll(processes, dir);
  try {
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...processes.map((p) => `${HOST}:${p.port}`),
        '--cluster-replicas',
        String(replicasPer),
        '--cluster-yes',
        ...(tls ? ['--tls', '--cacert', tls.caFile] : []),
      ],
      { timeout: 30_000 },
    );
    await waitUntil('cluster_state:ok on every node', 20_000, async () => {
      for (const p of processes) {
        const info = infoFields(await cmd(p.port, 'CLUSTER', 'INFO'));
        if (info.get('cluster_state') !== 'ok' || info.get('cluster_known_nodes') !== String(total)) return false;
      }
      return true;
    });
    const roles = await Promise.all(processes.map(async (p) => (await cmd(p.port, 'ROLE')) as unknown[]));
    const masters = processes.filter((_, i) => roles[i]![0] === 'master');
    const replicas = processes.filter((_, i) => roles[i]![0] === 'slave');
    await waitUntil('replicas in sync', 20_000, async () => {
      for (const r of replicas) {
        const info = infoFields(await cmd(r.port, 'INFO', 'replication'));
        if (info.get('master_link_status') !== 'up') return false;
      }
      // Clients learn of replicas from CLUSTER SLOTS: wait until every node lists them there.
      for (const p of processes) {
        const ranges = (await cmd(p.port, 'CLUSTER', 'SLOTS')) as unknown[][];
        if (ranges.some((range) => range.length - 2 !== 1 + replicasPer)) return false;
      }
      return true;
    });
    const nodes = processes.map((p) => ({ host: HOST, port: p.port }));
    return {
      masters,
      replicas,
      nodes,
      nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(','),
      close: () => stopAll(processes, dir),
    };
  } catch (err) {
    await stopAll(processes, dir);
    throw err;
  }
}

/** One master, one replica and three Sentinels (quorum 2) on 127.0.0.1. */
export interface RedisSentinelTopology {
  readonly masterName: string;
  /** The master and the replica as started; after a failover their roles are swapped. */
  readonly master: RedisProcess;
  readonly replica: RedisProcess;
  readonly sentinels: readonly RedisProcess[];
  /** As VESTIBULE_REDIS_SENTINELS expects it. */
  readonly sentinelsEnv: string;
  /** The master's port as a majority of the running Sentinels report it. */
  currentMasterPort(): Promise<number>;
  /** Resolves with the new master's port once the Sentinels agree on a master other than `oldPort` and it accepts writes. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export function startRedisSentinel(
  o: Parameters<typeof startRedisSentinelOnce>[0] = {},
): ReturnType<typeof startRedisSentinelOnce> {
  return onFreshPorts(() => startRedisSentinelOnce(o));
}

async function startRedisSentinelOnce(
  o: {
    masterName?: string;
    downAfterMs?: number;
    failoverTimeoutMs?: number;
    /** Only TLS: clients, replication, and Sentinels (to the servers and to each other). */
    tls?: TestCerts;
  } = {},
): Promise<RedisSentinelTopology> {
  const tls = o.tls;
  const cmd = (port: number, ...args: (string | number)[]) => redisCommandOver(tls, port, ...args);
  const masterName = o.masterName ?? 'mymaster';
  const dir = await mkdtemp(join(tmpdir(), 'vestibule-sentinel-'));
  const masterPort = await freePort();
  const replicaPort = await freePort();
  // No diskless-sync delay: a replica (the first one, or the old master rejoining) syncs at once.
  const master = managed(
    'master',
    masterPort,
    [...listenArgs(masterPort, tls), ...BASE_ARGS, '--repl-diskless-sync-delay', '0'],
    dir,
    tls,
  );
  const replica = managed(
    'replica',
    replicaPort,
    [
      ...listenArgs(replicaPort, tls),
      ...BASE_ARGS,
      '--repl-diskless-sync-delay',
      '0',
      '--replicaof',
      HOST,
      String(masterPort),
    ],
    dir,
    tls,
  );
  const sentinels: Managed[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    // Sentinel rewrites its configuration file at run time, so it gets a file of its own.
    const conf = join(dir, `sentinel-${i}.conf`);
    await writeFile(
      conf,
      [
        ...(tls
          ? [
              'port 0',
              `tls-port ${port}`,
              `tls-cert-file ${tls.certFile}`,
              `tls-key-file ${tls.keyFile}`,
              `tls-ca-cert-file ${tls.caFile}`,
              'tls-auth-clients no',
              'tls-replication yes',
            ]
          : [`port ${port}`]),
        `bind ${HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${masterName} ${HOST} ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${o.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${o.failoverTimeoutMs ?? 2000}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(managed(`sentinel-${i}`, port, [conf, '--sentinel'], dir, tls));
  }
  const all = [master, replica, ...sentinels];
  await startAll([master, replica], dir);
  try {
    // Sentinels learn of replicas from the master's INFO, every 10 s: start them once the replica is attached.
    await waitUntil('the replica to sync', 10_000, async () => {
      const info = infoFields(await cmd(replicaPort, 'INFO', 'replication'));
      return info.get('master_link_status') === 'up';
    });
    await startAll(sentinels, dir);
  } catch (err) {
    await stopAll(all, dir);
    throw err;
  }

  async function masterOf(sentinel: RedisProcess): Promise<number | undefined> {
    const reply = (await cmd(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as string[] | null;
    return reply ? Number(reply[1]) : undefined;
  }

  async function currentMasterPort(): Promise<number> {
    const votes = await Promise.all(sentinels.filter((s) => s.running).map((s) => masterOf(s).catch(() => undefined)));
    const counts = new Map<number, number>();
    for (const v of votes) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    const [best] = [...counts].sort((a, b) => b[1] - a[1]);
    if (!best || best[1] < 2) throw new Error(`sentinels disagree on the master: ${JSON.stringify(votes)}`);
    return best[0];
  }

  try {
    // Failover needs every Sentinel to know the replica (the master's INFO, every 10 s) and the two other
    // Sentinels (hello messages, every 2 s); a busy CI machine has taken over 20 s. What was missing is thrown,
    // so a timeout says it (waitUntil keeps the last error as the cause).
    await waitUntil('sentinels to discover the replica and each other', 40_000, async () => {
      for (const s of sentinels) {
        const m = pairs(await cmd(s.port, 'SENTINEL', 'MASTER', masterName));
        if (m.get('num-slaves') !== '1' || m.get('num-other-sentinels') !== '2') {
          const seen = `num-slaves ${String(m.get('num-slaves'))}, num-other-sentinels ${String(m.get('num-other-sentinels'))}`;
          throw new Error(`sentinel on port ${s.port}: ${seen}`);
        }
      }
      const info = infoFields(await cmd(replicaPort, 'INFO', 'replication'));
      return info.get('master_link_status') === 'up';
    });
  } catch (err) {
    await stopAll(all, dir);
    throw err;
  }

  return {
    masterName,
    master,
    replica,
    sentinels,
    sentinelsEnv: sentinels.map((s) => `${HOST}:${s.port}`).join(','),
    currentMasterPort,
    async waitForFailover(oldPort, timeoutMs = 30_000) {
      let port = oldPort;
      await waitUntil(`a failover away from port ${oldPort}`, timeoutMs, async () => {
        port = await currentMasterPort();
        if (port === oldPort) return false;
        const role = (await cmd(port, 'ROLE')) as unknown[];
        return role[0] === 'master';
      });
      return port;
    },
    close: () => stopAll(all, dir),
  };
}
