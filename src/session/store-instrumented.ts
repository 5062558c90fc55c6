import type { Metrics } from '../observability/metrics.js';
import type { SessionStore } from './store.js';

/** A {@link SessionStore} that times every operation and counts failures; behaviour unchanged. */
export function instrumentStore(store: SessionStore, metrics: Metrics): SessionStore {
  const timed =
    <A extends unknown[], R>(operation: string, f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.storeDuration.startTimer({ operation });
      try {
        return await f(...args);
      } catch (err) {
        metrics.storeErrors.inc({ operation });
        throw err;
      } finally {
        end();
      }
    };
  return {
    get: timed('get', (k) => store.get(k)),
    set: timed('set', (k, v, t) => store.set(k, v, t)),
    replace: timed('replace', (k, v, f) => store.replace(k, v, f)),
    delete: timed('delete', (...k) => store.delete(...k)),
    setIfAbsent: timed('lock', (k, v, t) => store.setIfAbsent(k, v, t)),
    extendIf: timed('extend', (k, v, t) => store.extendIf(k, v, t)),
    deleteIf: timed('unlock', (k, v) => store.deleteIf(k, v)),
    addToSet: timed('index_add', (k, m, t) => store.addToSet(k, m, t)),
    setMembers: timed('index_read', (k) => store.setMembers(k)),
    removeFromSet: timed('index_remove', (k, ...m) => store.removeFromSet(k, ...m)),
    ping: timed('ping', () => store.ping()),
    close: () => store.close(),
  };
}
