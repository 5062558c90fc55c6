import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { watchSilence } from './silence-watch.js';

/** Whether a request announces a body (RFC 9112 §6.3): most GETs do not, and need neither timer nor stream. */
export function announcesBody(h: IncomingHttpHeaders): boolean {
  return h['content-length'] !== undefined || h['transfer-encoding'] !== undefined;
}

/** How long a proxied body may bring no byte while it is being read. */
const PROXIED_BODY_SILENCE_MS = 15_000;
/** How often that silence is looked at: the cut comes 15–16 s after the last byte. */
const CHECK_EVERY_MS = 1_000;

/**
 * A request body that stalls is a dead or hostile client: vestibule's own routes take tiny bodies (10 s for
 * all of it); proxied bodies may be large and slow but not silent (15 s without a byte while the body is being
 * read ends the connection).
 */
export function guardBodyStall(request: FastifyRequest): void {
  const raw = request.raw;
  if (raw.complete || !announcesBody(request.headers)) return;
  if (request.routeOptions.config.routeClass !== 'proxy') {
    const timer = setTimeout(() => {
      if (!raw.complete) raw.destroy();
    }, 10_000);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    raw.once('close', () => clearTimeout(timer));
  } else guardProxiedBody(raw);
}

/**
 * Times a proxied body only while it is wanted: undici reads it (the stream flows), not before it is sent (the
 * pool is full, the session is refreshed at the IdP, a pipelined answer is still going out) and not while the
 * app is slow to take it (undici pauses it). A silence then is vestibule's or the app's, not the client's, and
 * a timer on the socket alone cut such uploads at 15 s.
 */
function guardProxiedBody(raw: IncomingMessage): void {
  const socket = raw.socket;
  // Owed while it flows and has not all arrived (what is left then is in Node's buffer, not the client's to send).
  const progress = (): number | undefined =>
    raw.readableFlowing === true && !raw.complete ? socket.bytesRead : undefined;
  const stop = watchSilence(progress, PROXIED_BODY_SILENCE_MS, CHECK_EVERY_MS, () => socket.destroy());
  raw.once('end', stop);
  raw.once('close', stop);
}
