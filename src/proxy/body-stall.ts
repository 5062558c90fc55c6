import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Whether a request announces a body (RFC 9112 §6.3): most GETs do not, and need neither timer nor stream. */
export function announcesBody(h: IncomingHttpHeaders): boolean {
  return h['content-length'] !== undefined || h['transfer-encoding'] !== undefined;
}

/**
 * A request body that stalls is a dead or hostile client: vestibule's own routes take tiny bodies (10 s for
 * all of it); proxied bodies may be large and slow but not silent (15 s without a byte ends the connection).
 */
export function guardBodyStall(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.complete || !announcesBody(request.headers)) return;
  if (request.routeOptions.config.routeClass !== 'proxy') {
    const timer = setTimeout(() => {
      if (!raw.complete) raw.destroy();
    }, 10_000);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    raw.once('close', () => clearTimeout(timer));
  } else {
    const socket = raw.socket;
    const guard = (): void => {
      socket.setTimeout(15_000, () => socket.destroy());
      raw.once('end', () => socket.setTimeout(0));
    };
    // Pipelined behind an answer still going out: its body is read only once that answer is done and it is
    // forwarded (forward.ts), so timed from then; a silence before is the answer in front's, not this client's.
    const res = reply.raw;
    if (res.socket === null) res.once('socket', guard);
    else guard();
  }
}
