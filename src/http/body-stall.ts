import type { FastifyRequest } from 'fastify';

/**
 * A request body that stalls is a dead or hostile client: vestibule's own routes take tiny bodies (10 s for
 * all of it); proxied bodies may be large and slow but not silent (15 s without a byte ends the connection).
 */
export function guardBodyStall(request: FastifyRequest): void {
  const raw = request.raw;
  const h = request.headers;
  // Only requests that announce a body (most proxied GETs do not) need a timer.
  if (raw.complete || (h['content-length'] === undefined && h['transfer-encoding'] === undefined)) return;
  if (request.routeOptions.config.routeClass !== 'proxy') {
    const timer = setTimeout(() => {
      if (!raw.complete) raw.destroy();
    }, 10_000);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    raw.once('close', () => clearTimeout(timer));
  } else {
    const socket = raw.socket;
    socket.setTimeout(15_000, () => socket.destroy());
    raw.once('end', () => socket.setTimeout(0));
  }
}
