import type { SessionStore } from '../session/store.js';
import { idpEndpoint, type Metrics } from './metrics.js';

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

/** A fetch that records identity-provider latency and failures by endpoint. */
export function instrumentFetch(metrics: Metrics, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = idpEndpoint(url);
    const end = metrics.idpDuration.startTimer({ endpoint });
    try {
      const res = await base(input, init);
      if (res.status >= 500) metrics.idpErrors.inc({ endpoint });
      return res;
    } catch (err) {
      metrics.idpErrors.inc({ endpoint });
      throw err;
    } finally {
      end();
    }
  };
}
