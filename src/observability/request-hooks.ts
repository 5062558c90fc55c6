import type { FastifyInstance, FastifyRequest } from 'fastify';
import { closeServerSpan, endServerSpan, startServerSpan } from '../tracing/request-spans.js';
import type { Tracer } from '../tracing/tracer.js';
import type { AccessLog } from './access-log.js';
import type { Metrics } from './metrics.js';
import { logRequest, traceparentOf } from './request-log.js';
import { recordRequest, type HostLabel } from './request-metrics.js';

export interface RequestHooks {
  /** Where the access line goes; the request's own logger when omitted. */
  readonly access?: AccessLog | undefined;
  readonly metrics?: Metrics | undefined;
  /** The public listener's ingress hosts: its `/oauth2` endpoints are then counted in Wonderwall's series too. */
  readonly wonderwallHosts?: HostLabel | undefined;
  /** More work for every request as it arrives, run inside the same hook. */
  readonly onRequest?: (request: FastifyRequest) => void;
  /** A server span per request when tracing is on; nothing at all when it is off or absent. */
  readonly tracer?: Tracer | undefined;
}

/**
 * The per-request observability of a listener: trace context on arrival; the access line and the request
 * metrics once answered. One hook per phase, since every hook Fastify runs costs on each proxied request.
 */
export function registerRequestHooks(app: FastifyInstance, o: RequestHooks): void {
  app.decorateRequest('traceparent', '');
  app.decorateRequest('span', null);
  const metrics = o.metrics;
  const user = o.onRequest;
  // Arrivals counted as they come in: a request still in flight is activity too (idle compaction).
  const extra =
    metrics === undefined
      ? user
      : (request: FastifyRequest): void => {
          metrics.arrived++;
          user?.(request);
        };
  const tracer = o.tracer?.enabled === true ? o.tracer : undefined;
  if (tracer) {
    // The rest of the request (hooks, handler, their async continuations) runs with its server span active.
    app.addHook('onRequest', (request, reply, done) => {
      const span = startServerSpan(tracer, request);
      // onResponse ends it when the answer finishes; this, when the response closes without finishing.
      if (span.recording) reply.raw.once('close', () => closeServerSpan(request, reply));
      extra?.(request);
      tracer.within(span, done);
    });
  } else {
    app.addHook('onRequest', (request, _reply, done) => {
      request.traceparent = traceparentOf(request.headers.traceparent);
      extra?.(request);
      done();
    });
  }
  const access = o.access;
  const hosts = o.wonderwallHosts;
  app.addHook('onResponse', (request, reply, done) => {
    logRequest(access, request, reply);
    if (metrics) recordRequest(metrics, request, reply, hosts);
    if (tracer) endServerSpan(request, reply);
    done();
  });
}
