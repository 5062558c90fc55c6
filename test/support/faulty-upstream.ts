import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A misbehaving app for fault tests: each path is one way to fail. */
export interface FaultyUpstream {
  readonly url: string;
  /** Requests received, by path (to check that vestibule never retried one). */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Paths: `/ok`, `/slow?ms=N` (answers after N ms), `/reset` (TCP reset, no answer), `/close` (FIN, no answer),
 * `/garbage` (not HTTP), `/huge-header` (a 64 KB response header), `/cut-body` (headers and half a body, then a
 * reset), `/stall-body` (headers and half a body, then silence).
 */
export async function startFaultyUpstream(): Promise<FaultyUpstream> {
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.set(u.pathname, (hits.get(u.pathname) ?? 0) + 1);
    req.resume();
    const socket = req.socket;
    switch (u.pathname) {
      case '/slow':
        setTimeout(() => res.end('slow'), Number(u.searchParams.get('ms') ?? '100')).unref();
        return;
      case '/reset':
        socket.resetAndDestroy();
        return;
      case '/close':
        socket.end();
        return;
      case '/garbage':
        socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
        return;
      case '/huge-header':
        res.setHeader('x-huge', 'a'.repeat(64 * 1024));
        res.end('ok');
        return;
      case '/cut-body':
        res.writeHead(200, { 'content-length': '1000' });
        res.write('a'.repeat(500), () => setTimeout(() => socket.resetAndDestroy(), 50));
        return;
      case '/stall-body':
        res.writeHead(200, { 'content-length': '1000' });
        res.write('a'.repeat(500));
        return;
      default:
        res.end('ok');
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
