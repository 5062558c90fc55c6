import type { FastifyReply, FastifyRequest } from 'fastify';
import { NOOP_SPAN, type Span, type Tracer } from './tracer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span while tracing is on, else null (see {@link spanOf}). */
    span: Span | null;
  }
}

/**
 * The request's server span, for a route to add an outcome to; the shared no-op span when tracing is off, so a
 * route can always call it.
 */
export function spanOf(request: FastifyRequest): Span {
  return request.span ?? NOOP_SPAN;
}

/** The path of a request target without its query (which carries codes and state at the callback). */
export function pathWithoutQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Starts the server span of a request: the caller's `traceparent` is its parent when well-formed (W3C practice:
 * the sampler's parentbased_ variants follow the caller's sampled flag), else it starts a trace. Its
 * `traceparent` replaces the request's, so the access line and the app see the exported trace's id. Attributes:
 * method, route, path without query; never a header.
 */
export function startServerSpan(tracer: Tracer, request: FastifyRequest): Span {
  // One read of routeOptions: Fastify builds a new object on every access.
  const { url: route, config } = request.routeOptions;
  const given = request.headers.traceparent;
  const span = tracer.startSpan(`${request.method} ${route ?? 'unmatched'}`, {
    kind: 'server',
    parent: typeof given === 'string' ? given : '',
  });
  // A request the sampler dropped gets no attributes: they would be thrown away.
  if (span.recording) {
    span.setAttribute('http.request.method', request.method);
    span.setAttribute('url.path', pathWithoutQuery(request.url));
    span.setAttribute('http.route', route ?? '');
    span.setAttribute('vestibule.route', config.routeClass ?? 'other');
  }
  request.span = span;
  request.traceparent = span.traceparent();
  return span;
}

/** Ends the request's server span with the status it was answered with; a 5xx marks it failed. */
export function endServerSpan(request: FastifyRequest, reply: FastifyReply): void {
  const span = request.span;
  if (span === null) return;
  request.span = null;
  span.setAttribute('http.response.status_code', reply.statusCode);
  if (reply.statusCode >= 500) span.fail(`HTTP ${reply.statusCode}`);
  span.end();
}

/**
 * Ends the server span of a response that closed without Fastify's onResponse (which runs on `finish` only): a
 * client that went away before the answer was complete (marked failed), or a websocket tunnel, whose hijacked
 * reply never finishes (101, ended when the tunnel closes). Without it those spans were never exported and the
 * request's store, IdP and upstream spans pointed at a parent the collector never got.
 */
export function closeServerSpan(request: FastifyRequest, reply: FastifyReply): void {
  const span = request.span;
  if (span === null) return;
  request.span = null;
  if (reply.raw.headersSent) span.setAttribute('http.response.status_code', reply.statusCode);
  const tunnel = reply.sent && request.headers.upgrade !== undefined;
  if (tunnel) span.setAttribute('http.response.status_code', 101);
  else span.fail('client closed the connection before the response was complete');
  span.end();
}
