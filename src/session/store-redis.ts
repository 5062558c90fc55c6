import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { VestibuleError } from '../errors.js';
import type { SessionStore } from './store.js';

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

export interface RedisStoreOptions {
  /** Longest a single command may take before the request gives up (the store counts as unavailable). */
  readonly commandTimeoutMs?: number;
}

/** Connection options that make a store outage fail fast instead of hanging requests. */
export function redisClientOptions(opts: RedisStoreOptions = {}): RedisOptions {
  return {
    lazyConnect: true,
    // Requests must not queue behind a dead connection: fail at once and let the caller decide.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  };
}

/** The session store on Redis (standalone or Sentinel; Cluster via the same commands). */
export class RedisStore implements SessionStore {
  readonly #r: ScriptClient;

  constructor(client: Redis | Cluster) {
    for (const [name, def] of Object.entries(SCRIPTS)) {
      client.defineCommand(name, { numberOfKeys: def.numberOfKeys, lua: def.lua });
    }
    this.#r = client as ScriptClient;
  }

  /** The underlying client, for the readiness check and metrics. */
  get client(): Redis | Cluster {
    return this.#r;
  }

  async #do<T>(op: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new VestibuleError('STORE_UNAVAILABLE', `redis ${op} failed`, { cause: err });
    }
  }

  get(key: string): Promise<Buffer | null> {
    return this.#do('get', () => this.#r.getBuffer(key));
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.#do('set', () => this.#r.set(key, value, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async replace(key: string, value: Buffer, fence?: { key: string; token: string }): Promise<boolean> {
    if (fence)
      return (await this.#do('replace', () => this.#r.replaceFenced(key, fence.key, value, fence.token))) === 1;
    // ioredis' typings order the options KEEPTTL, XX; Redis accepts either order.
    return (await this.#do('replace', () => this.#r.set(key, value, 'KEEPTTL', 'XX'))) === 'OK';
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: keys of different sessions live in different cluster slots.
    const counts = await Promise.all(keys.map((k) => this.#do('del', () => this.#r.del(k))));
    return counts.reduce((a, b) => a + b, 0);
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

  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    await this.#do('sadd', () => this.#r.addToSet(key, member, Math.round(ttlMs)));
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
    try {
      await this.#r.quit();
    } catch {
      this.#r.disconnect();
    }
  }
}
