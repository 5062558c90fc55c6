import { randomBytes } from 'node:crypto';
import type { SessionStore } from './store.js';

/** A held lock: its key and token fence the writes made under it. */
export interface HeldLock {
  readonly key: string;
  readonly token: string;
}

/**
 * A cluster-wide lock on one session, in the store. The lease is short and renewed while the holder works,
 * so a crashed replica blocks others for one lease at most while a slow refresh never loses its lock
 * mid-flight (the failure mode of oauth2-proxy's fixed-TTL lock). Writes under it are fenced by the token.
 */
export class RefreshLock {
  readonly #store: SessionStore;
  readonly #leaseMs: number;

  constructor(store: SessionStore, leaseMs = 5_000) {
    this.#store = store;
    this.#leaseMs = leaseMs;
  }

  /** The store the locks live in (where the refresher also keeps its back-offs, next to them). */
  get store(): SessionStore {
    return this.#store;
  }

  /** Tries once; undefined when someone else holds the lock. */
  async tryAcquire(key: string): Promise<HeldLock | undefined> {
    const token = randomBytes(16).toString('base64url');
    return (await this.#store.setIfAbsent(key, token, this.#leaseMs)) ? { key, token } : undefined;
  }

  /** Runs `work` while renewing the lease every third of it; releases the lock afterwards. */
  async holding<T>(lock: HeldLock, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      this.#store.extendIf(lock.key, lock.token, this.#leaseMs).catch(() => undefined);
    }, this.#leaseMs / 3);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await this.#store.deleteIf(lock.key, lock.token).catch(() => undefined);
    }
  }
}
