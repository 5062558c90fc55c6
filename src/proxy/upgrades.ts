import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import { responseHeaders, type ForwardFailure } from './forward.js';
import { privateAnswer } from './private-answer.js';
import type { Tunnels } from './tunnel.js';

/** An upgrade request (websocket) waiting for its route: the client socket and the bytes after the head. */
export interface PendingUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

const upgrades = new WeakMap<IncomingMessage, PendingUpgrade>();

/** The pending upgrade of this request, when it is one. */
export function pendingUpgrade(request: FastifyRequest): PendingUpgrade | undefined {
  return upgrades.get(request.raw);
}

/**
 * Sends upgrade requests through Fastify's router like any other request, so the same hooks (auth, limits,
 * logging) run before the route handler opens the tunnel. An answer other than a tunnel ends the socket.
 */
export function routeUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (raw: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgrades.set(raw, { socket, head });
    const res = new ServerResponse(raw);
    res.assignSocket(socket as never);
    res.on('finish', () => socket.destroy());
    app.routing(raw, res);
  });
}

/** Opens the byte tunnel to the app once it answers 101; its refusal is passed on like any proxied answer. */
export function openTunnel(
  request: FastifyRequest,
  reply: FastifyReply,
  headers: Record<string, string | string[]>,
  upgrade: PendingUpgrade,
  d: { readonly tunnels: Tunnels; readonly metrics: Metrics },
  failed: (reply: FastifyReply, kind: ForwardFailure) => void,
): void {
  d.tunnels.open(
    { url: request.url, headers, upgrade: String(request.headers.upgrade), client: upgrade.socket, head: upgrade.head },
    {
      onOpen: () => {
        reply.hijack();
        d.metrics.websockets.inc();
      },
      onClose: () => d.metrics.websockets.dec(),
      onRefused: (response) => {
        // The app's own answer, filtered like any proxied answer (responseHeaders), sent through Fastify; kept
        // out of shared caches when the pre-handler put a re-issued session cookie on the reply.
        const filtered = responseHeaders(response.rawHeaders);
        const h = reply.hasHeader('set-cookie') ? privateAnswer(filtered) : filtered;
        reply.code(response.statusCode ?? 502);
        for (let i = 0; i + 1 < h.length; i += 2) reply.header(h[i] ?? '', h[i + 1]);
        void reply.send(response);
      },
      onFailure: (kind) => failed(reply, kind),
    },
  );
}
