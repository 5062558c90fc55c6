import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ForwardFailure } from './forward.js';

export interface TunnelRequest {
  /** The raw request target, passed on byte for byte. */
  readonly url: string;
  /** Headers for the app, hop-by-hop ones already removed (Connection and Upgrade are added here). */
  readonly headers: Record<string, string | string[]>;
  /** The client's Upgrade header (e.g. `websocket`). */
  readonly upgrade: string;
  readonly client: Duplex;
  /** Bytes the client sent after its request head. */
  readonly head: Buffer;
}

export interface TunnelEvents {
  /** The app switched protocols: bytes now flow both ways untouched. */
  readonly onOpen: () => void;
  readonly onClose: () => void;
  /** The app answered without switching (e.g. 403): the caller sends that answer as a normal response. */
  readonly onRefused: (response: IncomingMessage) => void;
  /** The app could not be reached or did not answer in time. */
  readonly onFailure: (kind: ForwardFailure, error: Error) => void;
}

/**
 * Upgraded connections (websockets) to the app as byte tunnels: the handshake is forwarded like any request
 * (our auth ran before it), and once the app answers 101 the two sockets are piped together. The browser and
 * the app negotiate subprotocols and extensions end to end, as through nginx; vestibule never parses frames.
 */
export class Tunnels {
  readonly #open = new Set<Duplex>();
  readonly #upstream: URL;
  readonly #timeoutMs: number;

  constructor(upstream: string, timeoutMs: number) {
    this.#upstream = new URL(upstream);
    this.#timeoutMs = timeoutMs;
  }

  /** Tunnels open now (each a pair of sockets piped together). */
  get size(): number {
    return this.#open.size;
  }

  open(t: TunnelRequest, events: TunnelEvents): void {
    const u = this.#upstream;
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (u.protocol === 'https:' ? 443 : 80),
      method: 'GET',
      path: t.url,
      headers: { ...t.headers, connection: 'Upgrade', upgrade: t.upgrade },
      agent: false,
      timeout: this.#timeoutMs,
    });
    let settled = false;
    req.on('timeout', () => req.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      events.onFailure(err.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable', err);
    });
    req.on('response', (response) => {
      settled = true;
      events.onRefused(response);
    });
    req.on('upgrade', (response, upstream: Socket, upstreamHead: Buffer) => {
      settled = true;
      req.setTimeout(0);
      upstream.setTimeout(0);
      this.#join(t, response, upstream, upstreamHead, events);
    });
    req.end();
  }

  /** Cuts every open tunnel (shutdown after its grace period). */
  destroyAll(): void {
    for (const s of this.#open) s.destroy();
  }

  #join(t: TunnelRequest, response: IncomingMessage, upstream: Duplex, upstreamHead: Buffer, events: TunnelEvents) {
    const { client } = t;
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    const lines = [`HTTP/1.1 101 ${response.statusMessage ?? 'Switching Protocols'}`];
    const raw = response.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i] ?? ''}: ${raw[i + 1] ?? ''}`);
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length > 0) client.write(upstreamHead);
    if (t.head.length > 0) upstream.write(t.head);
    this.#open.add(client);
    events.onOpen();
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.#open.delete(client);
      client.destroy();
      upstream.destroy();
      events.onClose();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
    upstream.pipe(client);
    client.pipe(upstream);
  }
}
