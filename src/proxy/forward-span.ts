import type { Tracer } from '../tracing/tracer.js';
import { pathWithoutQuery } from '../tracing/request-spans.js';
import type { ForwardEvents, ForwardRequest, Forwarder } from './forward.js';

/**
 * The forwarder with a client span per proxied request, child of the request's server span, whose `traceparent`
 * the app receives (none for a request the sampler dropped); the span ends when the answer to the client is done. Attributes: method, path without query,
 * the app's status, or why forwarding failed. `forwarder` unchanged when tracing is off.
 */
export function traceForwarder(
  forwarder: Forwarder,
  tracer: Tracer,
  upstream: string,
): Pick<Forwarder, 'forward' | 'close'> {
  if (!tracer.enabled) return forwarder;
  const { hostname, port } = new URL(upstream);
  return {
    close: () => forwarder.close(),
    forward(r: ForwardRequest, events: ForwardEvents): void {
      const span = tracer.startSpan(`${r.method} upstream`, { kind: 'client', onlyWithinRecordedTrace: true });
      // A request the sampler dropped: the app gets the server span's unsampled traceparent, as set already.
      if (!span.recording) {
        forwarder.forward(r, events);
        return;
      }
      span.setAttribute('http.request.method', r.method);
      span.setAttribute('server.address', hostname);
      if (port !== '') span.setAttribute('server.port', Number(port));
      span.setAttribute('url.path', pathWithoutQuery(r.url));
      r.headers.traceparent = span.traceparent();
      r.res.once('close', () => span.end());
      forwarder.forward(r, {
        onResponse: (status) => {
          span.setAttribute('http.response.status_code', status);
          if (status >= 500) span.fail(`HTTP ${status}`);
          events.onResponse(status);
        },
        onFailure: (kind, error) => {
          span.fail(`upstream ${kind}`);
          events.onFailure(kind, error);
        },
        onBroken: () => {
          span.fail('upstream broken');
          events.onBroken?.();
        },
        onClientGone: events.onClientGone,
      });
    },
  };
}
