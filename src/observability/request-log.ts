import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessEntry, AccessLog } from './access-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** W3C trace context for this request: the caller's when well-formed, else a new one (sent to the app). */
    traceparent: string;
  }
  interface FastifyContextConfig {
    /** Bounded label for logs and metrics: never a raw path. */
    routeClass?: 'login' | 'callback' | 'logout' | 'session' | 'proxy' | 'admin' | 'token' | 'other';
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Trace ids come from a pool of random bytes refilled 4 KiB at a time: one random call per ~170 requests.
let pool = Buffer.alloc(0);
let offset = 0;
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The caller's `traceparent` when valid (version 00), else a new unsampled one, so the app can correlate. */
export function traceparentOf(given: string | string[] | undefined): string {
  if (typeof given === 'string' && TRACEPARENT.test(given)) return given;
  const ids = randomHex(24);
  return `00-${ids.slice(0, 32)}-${ids.slice(32)}-00`;
}

/** The request id: the caller's X-Request-Id when it is well-formed, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}

/**
 * One info line per finished request: method, route class, status, duration, correlation id, whether a
 * session was present. Never the URL's query (it carries codes and state at the callback) nor any header.
 * Through the access log when there is one, else through the request's logger (the token API).
 */
export function logRequest(access: AccessLog | undefined, request: FastifyRequest, reply: FastifyReply): void {
  const entry: AccessEntry = {
    reqId: request.id,
    method: request.method,
    route: request.routeOptions.config.routeClass ?? 'other',
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 10) / 10,
    session: request.proxyAuth ? request.proxyAuth.accessToken !== undefined : undefined,
    traceId: request.traceparent.slice(3, 35),
  };
  if (access) access.write(entry);
  else request.log.info(entry, 'request');
}
