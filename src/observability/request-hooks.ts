import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
 * Records a request whose answer did not finish (its client left, or the app's answer broke off), which
 * Fastify's onResponse never sees (it runs on 'finish' or 'error', not on 'close'): the access line and the
 * request metrics, with nginx's 499 when no status was sent yet, else the status that was. Called by the proxy,
 * which already listens for the close (one more listener on every request would cost every request).
 */
export type RecordUnfinished = (request: FastifyRequest, reply: FastifyReply) => void;

/** The status nginx logs for a client that closed the connection before the answer was sent. */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * The per-request observability of a listener: trace context on arrival; the access line and the request
 * metrics once answered. One hook per phase, since every hook Fastify runs costs on each proxied request.
 * Returns what records a request whose answer did not finish ({@link RecordUnfinished}).
 */
export function registerRequestHooks(app: FastifyInstance, o: RequestHooks): RecordUnfinished {
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
  const record = (request: FastifyRequest, reply: FastifyReply): void => {
    logRequest(access, request, reply);
    if (metrics) recordRequest(metrics, request, reply, hosts);
  };
  app.addHook('onResponse', (request, reply, done) => {
    record(request, reply);
    if (tracer) endServerSpan(request, reply);
    done();
  });
  // The server span of such a request is ended by its own close listener (closeServerSpan), marked failed.
  return (request, reply) => {
    if (!reply.raw.headersSent) reply.raw.statusCode = CLIENT_CLOSED_REQUEST;
    record(request, reply);
  };
}
