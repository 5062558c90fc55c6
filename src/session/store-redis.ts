import type { ChainableCommander, Cluster, Redis, RedisOptions } from 'ioredis';
import { VestibuleError } from '../errors/registry.js';
import type { SessionStore } from './store.js';
import { redisInvalidationBus } from './invalidation-redis.js';
import type { InvalidationBus, SessionCache } from './session-cache.js';

// Each script touches keys of one hash slot only (a record and its lock share `{id}`), so it runs on Cluster too.
const SCRIPTS = {
  replaceFenced: {
    numberOfKeys: 2,
    lua: `if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
return redis.call('SET', KEYS[1], ARGV[1], 'XX', 'KEEPTTL') and 1 or 0`,
  },
  extendIf: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  },
  deleteIf: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  addToSet: {
    numberOfKeys: 1,
    lua: `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
  },
} as const;

type ScriptClient = (Redis | Cluster) & {
  replaceFenced(record: string, lock: string, value: Buffer, token: string): Promise<number>;
  extendIf(key: string, value: string, ttl: number): Promise<number>;
  deleteIf(key: string, value: string): Promise<number>;
  addToSet(key: string, member: string, ttl: number): Promise<number>;
};

type Pipe = ChainableCommander & {
  replaceFenced(record: string, lock: string, value: Buffer, token: string): Pipe;
  addToSet(key: string, member: string, ttl: number): Pipe;
};

export interface RedisStoreOptions {
  /** Longest a single command may take before the request gives up (the store counts as unavailable). */
  readonly commandTimeoutMs?: number;
}

/**
 * Durable writes: after a session write, Redis `WAIT`s until replicas hold it, so a failover that promotes a
 * replica does not lose a write that vestibule already acknowledged (a login the browser saw complete, a
 * logout). Replication is asynchronous otherwise.
 */
export interface ReplicaAck {
  /** Replicas that must confirm a write of `key`: 0 when none is attached (nothing to wait for). */
  replicasFor(key: string): number;
  /** Longest WAIT; below the command timeout. */
  readonly timeoutMs: number;
  /**
   * Fewer replicas confirmed than wanted within `timeoutMs`. The write stands (it is on the master) but a
   * failover right now could lose it. To refuse such writes instead, configure Redis itself with
   * `min-replicas-to-write`.
   */
  onShortfall?(shortfall: { op: string; wanted: number; acked: number }): void;
  /** Stops whatever tracks the replicas (called by `close()`). */
  stop?(): void;
}

/** The one error of a failed store command: the store counts as unavailable. */
function storeError(op: string, err: unknown): VestibuleError {
  return new VestibuleError('STORE_UNAVAILABLE', `redis ${op} failed`, { cause: err });
}

function getFailed(err: unknown): never {
  throw storeError('get', err);
}

/** Connection options that make a store outage fail fast instead of hanging requests. */
export function redisClientOptions(opts: RedisStoreOptions = {}): RedisOptions {
  return {
    lazyConnect: true,
    // Requests must not queue behind a dead connection: fail at once and let the caller decide.
    enableOfflineQueue: false,
    // Nor be re-sent on the next connection: a WAIT re-sent to a new master (after a failover) would confirm
    // nothing, as its connection has written nothing yet, and report a lost write as replicated.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  };
}

/** The session store on Redis (standalone or Sentinel; Cluster via the same commands). */
export class RedisStore implements SessionStore {
  readonly #r: ScriptClient;
  readonly #ack: ReplicaAck | undefined;
  /** The connection corked until the end of this turn of the event loop, if any (see {@link #batch}). */
  #corked: Redis['stream'] | undefined;
  readonly #uncork = (): void => {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  };

  constructor(client: Redis | Cluster, opts: { replicaAck?: ReplicaAck } = {}) {
    for (const [name, def] of Object.entries(SCRIPTS)) {
      client.defineCommand(name, { numberOfKeys: def.numberOfKeys, lua: def.lua });
    }
    this.#r = client as ScriptClient;
    this.#ack = opts.replicaAck;
  }

  openInvalidationBus(channel: string, cache: SessionCache): Promise<InvalidationBus> {
    return redisInvalidationBus(this.client, channel, cache);
  }

  /** The underlying client, for the readiness check and metrics. */
  get client(): Redis | Cluster {
    return this.#r;
  }

  async #do<T>(op: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw storeError(op, err);
    }
  }

  /**
   * One write of `key`, followed by `WAIT` when replicas should confirm it. Both go in one pipeline, so on
   * Cluster they reach the node owning `key` over the same connection (WAIT counts that connection's writes).
   * Resolves with the write's reply.
   */
  async #write(op: string, key: string, queue: (p: Pipe) => ChainableCommander): Promise<unknown> {
    const wanted = this.#ack ? this.#ack.replicasFor(key) : 0;
    const pipe = queue(this.#r.pipeline() as Pipe);
    if (this.#ack && wanted > 0) pipe.wait(wanted, this.#ack.timeoutMs);
    const replies = await this.#do(op, () => pipe.exec());
    const [write, wait] = replies ?? [];
    if (!write) throw new VestibuleError('STORE_UNAVAILABLE', `redis ${op} failed: no reply`);
    if (write[0]) throw storeError(op, write[0]);
    if (wait) {
      // The write happened; without the replicas' confirmation it is not known to survive a failover.
      // A lost connection leaves the outcome unknown: fail. A refused WAIT (a proxy that lacks it) is a shortfall.
      if (wait[0] && wait[0].name !== 'ReplyError')
        throw new VestibuleError('STORE_UNAVAILABLE', `redis ${op} not confirmed`, { cause: wait[0] });
      const acked = wait[0] ? 0 : Number(wait[1]);
      if (acked < wanted) this.#ack?.onShortfall?.({ op, wanted, acked });
    }
    return write[1];
  }

  /**
   * Holds the connection's writes until the event loop's check phase, so the GETs of every request read from the
   * sockets in this turn reach Redis in one `writev` instead of one system call each (under load, the largest
   * single cost of a request whose session is not cached). Unlike ioredis' auto-pipelining, each command is
   * still sent (and its 2 s timeout started) at once, and nothing waits for an earlier batch's replies. A cluster
   * has a connection per node and is left as it is.
   */
  #batch(): void {
    if (this.#corked !== undefined || !('stream' in this.#r)) return;
    const stream = this.#r.stream as Redis['stream'] | undefined;
    if (!stream?.writable) return;
    stream.cork();
    this.#corked = stream;
    setImmediate(this.#uncork);
  }

  /** Rejects as {@link #do} does; written without an async wrapper, as every request whose session is not cached waits on it. */
  get(key: string): Promise<Buffer | null> {
    this.#batch();
    try {
      return this.#r.getBuffer(key).catch(getFailed);
    } catch (err) {
      return Promise.reject(storeError('get', err));
    }
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.#write('set', key, (p) => p.set(key, value, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async replace(key: string, value: Buffer, fence?: { key: string; token: string }): Promise<boolean> {
    if (fence)
      return (await this.#write('replace', key, (p) => p.replaceFenced(key, fence.key, value, fence.token))) === 1;
    // ioredis' typings order the options KEEPTTL, XX; Redis accepts either order.
    return (await this.#write('replace', key, (p) => p.set(key, value, 'KEEPTTL', 'XX'))) === 'OK';
  }

  /** Durable too: a logout lost on failover would bring the session back. */
  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: keys of different sessions live in different cluster slots.
    const counts = await Promise.all(keys.map((k) => this.#write('del', k, (p) => p.del(k))));
    return counts.reduce<number>((a, b) => a + Number(b), 0);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.#do('set-nx', () => this.#r.set(key, value, 'PX', Math.max(1, Math.round(ttlMs)), 'NX'))) === 'OK'
    );
  }

  async extendIf(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#do('extend', () => this.#r.extendIf(key, value, Math.round(ttlMs)))) === 1;
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    return (await this.#do('delete-if', () => this.#r.deleteIf(key, value))) === 1;
  }

  /** Durable: an index entry lost on failover would leave its session out of a front-channel logout. */
  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    await this.#write('sadd', key, (p) => p.addToSet(key, member, Math.round(ttlMs)));
  }

  setMembers(key: string): Promise<string[]> {
    return this.#do('smembers', () => this.#r.smembers(key));
  }

  async removeFromSet(key: string, ...members: string[]): Promise<void> {
    if (members.length > 0) await this.#do('srem', () => this.#r.srem(key, ...members));
  }

  async ping(): Promise<void> {
    await this.#do('ping', () => this.#r.ping());
  }

  async close(): Promise<void> {
    this.#ack?.stop?.();
    try {
      await this.#r.quit();
    } catch {
      this.#r.disconnect();
    }
  }
}
