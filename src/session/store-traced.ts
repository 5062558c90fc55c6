import type { Tracer } from '../tracing/tracer.js';
import { wrapOperations } from './store-instrumented.js';
import type { SessionStore } from './store.js';

/**
 * A {@link SessionStore} that records a client span per operation inside a recorded trace (a store call outside
 * any trace, such as a readiness ping, or in a request the sampler dropped, records nothing and allocates nothing). Attributes: the store kind and the operation, named as
 * the metrics name them; never a key (a hash of the session ticket) nor a value (sealed tokens). `store`
 * unchanged when tracing is off.
 */
export function traceStore(store: SessionStore, tracer: Tracer, system: string): SessionStore {
  if (!tracer.enabled) return store;
  const traced = <A extends unknown[], R>(operation: string, f: (...args: A) => Promise<R>) => {
    const name = `${system} ${operation}`;
    const attributes = { 'db.system.name': system, 'db.operation.name': operation };
    return async (...args: A): Promise<R> => {
      const span = tracer.startSpan(name, { kind: 'client', attributes, onlyWithinRecordedTrace: true });
      try {
        return await f(...args);
      } catch (err) {
        span.fail('store error');
        throw err;
      } finally {
        span.end();
      }
    };
  };
  return wrapOperations(store, traced);
}
