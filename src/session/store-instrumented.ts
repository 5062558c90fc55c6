import { WONDERWALL_PROVIDER, type Metrics } from '../observability/metrics.js';
import type { SessionStore } from './store.js';

/**
 * Wonderwall's `wonderwall_redis_latency{operation}` for the operations its session store has: read, write,
 * update (our fenced replace) and delete of a record. Locks and indexes have no Wonderwall counterpart.
 */
const WONDERWALL_OPERATIONS: Readonly<Record<string, string>> = {
  get: 'Read',
  set: 'Write',
  replace: 'Update',
  delete: 'Delete',
};

/** A {@link SessionStore} that times every operation and counts failures; behaviour unchanged. */
export function instrumentStore(store: SessionStore, metrics: Metrics): SessionStore {
  const timed = <A extends unknown[], R>(operation: string, f: (...args: A) => Promise<R>) => {
    const wonderwall = WONDERWALL_OPERATIONS[operation];
    const labels = { operation };
    const wonderwallLabels =
      wonderwall === undefined ? undefined : { operation: wonderwall, provider: WONDERWALL_PROVIDER };
    // Failures are timed too, as in Wonderwall's ObserveRedisLatency.
    const observe = (start: number): void => {
      const seconds = (performance.now() - start) / 1000;
      metrics.storeDuration.observe(labels, seconds);
      if (wonderwallLabels !== undefined) metrics.wonderwallRedisLatency.observe(wonderwallLabels, seconds);
    };
    // Promise callbacks rather than an async function: a read of a session that is not cached passes here on
    // every request, and one async frame fewer is one promise fewer.
    return (...args: A): Promise<R> => {
      const start = performance.now();
      let pending: Promise<R>;
      try {
        pending = f(...args);
      } catch (err) {
        // The store's own error, passed on unchanged as the async wrapper before this did.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        pending = Promise.reject(err);
      }
      return pending.then(
        (value) => {
          observe(start);
          return value;
        },
        (err: unknown) => {
          metrics.storeErrors.inc(labels);
          observe(start);
          throw err;
        },
      );
    };
  };
  return wrapOperations(store, timed);
}

/** Wraps one operation of a store, given the bounded name the metrics and spans give it. */
export type OperationWrapper = <A extends unknown[], R>(
  operation: string,
  f: (...args: A) => Promise<R>,
) => (...args: A) => Promise<R>;

/**
 * A {@link SessionStore} whose every operation but `close` is `wrap`ped, under the one naming shared by the
 * store's metrics (`operation` label) and spans (`db.operation.name`).
 */
export function wrapOperations(store: SessionStore, wrap: OperationWrapper): SessionStore {
  return {
    get: wrap('get', (k) => store.get(k)),
    set: wrap('set', (k, v, t) => store.set(k, v, t)),
    replace: wrap('replace', (k, v, f) => store.replace(k, v, f)),
    delete: wrap('delete', (...k) => store.delete(...k)),
    setIfAbsent: wrap('lock', (k, v, t) => store.setIfAbsent(k, v, t)),
    extendIf: wrap('extend', (k, v, t) => store.extendIf(k, v, t)),
    deleteIf: wrap('unlock', (k, v) => store.deleteIf(k, v)),
    addToSet: wrap('index_add', (k, m, t) => store.addToSet(k, m, t)),
    setMembers: wrap('index_read', (k) => store.setMembers(k)),
    removeFromSet: wrap('index_remove', (k, ...m) => store.removeFromSet(k, ...m)),
    ping: wrap('ping', () => store.ping()),
    close: () => store.close(),
  };
}
