import type { SessionStore } from './store.js';

interface Entry {
  value: Buffer | string | Set<string>;
  expiresAt: number;
}

/**
 * A single-process store with the same TTL, fencing and lock semantics as Redis (the contract tests run
 * against both). Only for one replica: nothing is shared between processes.
 */
export class MemoryStore implements SessionStore {
  readonly #data = new Map<string, Entry>();
  readonly #now: () => number;
  #sweepAt = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #live(key: string): Entry | undefined {
    const e = this.#data.get(key);
    if (e && e.expiresAt <= this.#now()) {
      this.#data.delete(key);
      return undefined;
    }
    return e;
  }

  // Expired entries are dropped when read and, to keep memory flat, swept at most once a minute.
  #sweep(): void {
    const now = this.#now();
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    for (const [k, e] of this.#data) if (e.expiresAt <= now) this.#data.delete(k);
  }

  get(key: string): Promise<Buffer | null> {
    const v = this.#live(key)?.value;
    return Promise.resolve(Buffer.isBuffer(v) ? v : null);
  }

  set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.#sweep();
    this.#data.set(key, { value, expiresAt: this.#now() + ttlMs });
    return Promise.resolve();
  }

  replace(key: string, value: Buffer, fence?: { key: string; token: string }): Promise<boolean> {
    const e = this.#live(key);
    if (!e || !Buffer.isBuffer(e.value)) return Promise.resolve(false);
    if (fence && this.#live(fence.key)?.value !== fence.token) return Promise.resolve(false);
    e.value = value;
    return Promise.resolve(true);
  }

  delete(...keys: string[]): Promise<number> {
    let n = 0;
    for (const k of keys) if (this.#live(k) && this.#data.delete(k)) n++;
    return Promise.resolve(n);
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)) return Promise.resolve(false);
    this.#sweep();
    this.#data.set(key, { value, expiresAt: this.#now() + ttlMs });
    return Promise.resolve(true);
  }

  extendIf(key: string, value: string, ttlMs: number): Promise<boolean> {
    const e = this.#live(key);
    if (e?.value !== value) return Promise.resolve(false);
    e.expiresAt = this.#now() + ttlMs;
    return Promise.resolve(true);
  }

  deleteIf(key: string, value: string): Promise<boolean> {
    if (this.#live(key)?.value !== value) return Promise.resolve(false);
    this.#data.delete(key);
    return Promise.resolve(true);
  }

  addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    const e = this.#live(key);
    const expiresAt = this.#now() + ttlMs;
    if (e && e.value instanceof Set) {
      e.value.add(member);
      e.expiresAt = Math.max(e.expiresAt, expiresAt);
    } else {
      this.#data.set(key, { value: new Set([member]), expiresAt });
    }
    return Promise.resolve();
  }

  setMembers(key: string): Promise<string[]> {
    const v = this.#live(key)?.value;
    return Promise.resolve(v instanceof Set ? [...v] : []);
  }

  removeFromSet(key: string, ...members: string[]): Promise<void> {
    const v = this.#live(key)?.value;
    if (v instanceof Set) {
      for (const m of members) v.delete(m);
      if (v.size === 0) this.#data.delete(key);
    }
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#data.clear();
    return Promise.resolve();
  }
}
