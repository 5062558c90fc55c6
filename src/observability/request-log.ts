import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Bounded label for logs and metrics: never a raw path. */
    routeClass?: 'login' | 'callback' | 'logout' | 'session' | 'proxy' | 'admin' | 'token' | 'other';
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the caller's X-Request-Id when it is well-formed, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}

/**
 * One info line per finished request: method, route class, status, duration, correlation id, whether a
 * session was present. Never the URL's query (it carries codes and state at the callback) nor any header.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.config.routeClass ?? 'other',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        session: request.proxyAuth ? request.proxyAuth.accessToken !== undefined : undefined,
      },
      'request',
    );
  });
}
