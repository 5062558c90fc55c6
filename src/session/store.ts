import type { InvalidationBus, SessionCache } from './session-cache.js';

/**
 * The narrow seam between sessions and where they are kept. Values are opaque sealed bytes: a store never
 * sees a token. Every method is a single-key operation (or one Lua script over keys sharing a hash slot), so
 * the same contract holds on a standalone Redis, Sentinel, a Redis Cluster and the in-memory store.
 */
export interface SessionStore {
  /** The stored value, or null when absent or expired. */
  get(key: string): Promise<Buffer | null>;
  /** Writes `value` with a TTL, replacing any previous value. */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /**
   * Replaces an existing value and keeps its TTL. With `fence`, only while the lock key `fence.key` still
   * holds `fence.token` (the writer's lease has not expired), so a slow writer cannot overwrite a newer
   * value. False when the value is gone or the fence failed.
   */
  replace(key: string, value: Buffer, fence?: { key: string; token: string }): Promise<boolean>;
  /** Deletes the keys; returns how many existed. */
  delete(...keys: string[]): Promise<number>;
  /** Sets `key` to `value` with a TTL only if absent (locks, one-time markers); true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Resets the TTL of `key` only while it holds `value` (lease renewal). */
  extendIf(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only while it holds `value` (lock release). */
  deleteIf(key: string, value: string): Promise<boolean>;
  /** Adds `member` to the set `key` and makes the set live at least `ttlMs`. */
  addToSet(key: string, member: string, ttlMs: number): Promise<void>;
  /** Members of the set `key` (empty when absent). */
  setMembers(key: string): Promise<string[]>;
  /** Removes members from the set `key`. */
  removeFromSet(key: string, ...members: string[]): Promise<void>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * The channel on which replicas tell each other's caches that a session changed, opened over this store's
   * own connection (Redis pub/sub), so a store and its bus always come together. Absent on a store one
   * process holds alone (in memory): there is nobody to tell.
   */
  openInvalidationBus?(channel: string, cache: SessionCache): Promise<InvalidationBus>;
}
