import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A real upstream app for tests: `/echo*` answers JSON with what it received, `/upload` streams the body
 * through a hash and answers its size and sha256, `/download?bytes=N` streams N bytes, `/slow?ms=N` answers
 * after N ms, `/hop` answers with hop-by-hop headers, `/cacheable` answers as shared-cacheable
 * (`Cache-Control: public, max-age=60, s-maxage=600`, `Vary: Accept-Encoding`), and websockets echo messages back prefixed with the
 * Authorization header they were opened with (on `/ws-refused` the app refuses the upgrade with 403).
 */
export interface Upstream {
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      const read = (): void => {
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
        });
      };
      // An app slow to take a body: it reads nothing before this many ms.
      const startAfter = Number(u.searchParams.get('startAfterMs') ?? '0');
      if (startAfter > 0) setTimeout(read, startAfter);
      else read();
      return;
    }
    if (u.pathname === '/download') {
      let left = Number(u.searchParams.get('bytes') ?? '0');
      const chunk = Buffer.alloc(64 * 1024, 97);
      res.setHeader('content-type', 'application/octet-stream');
      const pump = (): void => {
        while (left > 0) {
          const part = chunk.subarray(0, Math.min(left, chunk.length));
          left -= part.length;
          if (!res.write(part)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    if (u.pathname === '/stream') {
      // N chunks, one every M ms: a slow streamed response (SSE-like) for drain tests.
      const chunks = Number(u.searchParams.get('chunks') ?? '5');
      const every = Number(u.searchParams.get('ms') ?? '200');
      res.setHeader('content-type', 'text/plain');
      let sent = 0;
      const tick = setInterval(() => {
        res.write(`chunk ${sent}\n`);
        if (++sent === chunks) {
          clearInterval(tick);
          res.end('done\n');
        }
      }, every);
      req.on('close', () => clearInterval(tick));
      return;
    }
    if (u.pathname === '/hop') {
      // Hop-by-hop headers of the app's own, and one it names in Connection: none may reach the client.
      res.setHeader('connection', 'close, x-internal');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-internal', 'for-the-proxy-only');
      res.setHeader('x-public', 'yes');
      res.setHeader('set-cookie', ['app-a=1; Path=/', 'app-b=2; Path=/']);
      res.end('hop');
      return;
    }
    if (u.pathname === '/cacheable') {
      // A page a shared cache may keep: only safe to keep when it carries nothing user-specific.
      res.setHeader('cache-control', 'public, max-age=60, s-maxage=600');
      res.setHeader('vary', 'Accept-Encoding');
      res.end('cacheable');
      return;
    }
    if (u.pathname === '/slow') {
      setTimeout(() => res.end('slow done'), Number(u.searchParams.get('ms') ?? '100'));
      return;
    }
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  // /ws-refused is refused with 403 (an app turning a websocket down); the rest echo.
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: { url?: string } }, cb: (ok: boolean, code?: number) => void) =>
      cb(!info.req.url?.startsWith('/ws-refused'), 403),
  });
  wss.on('connection', (socket, req) => {
    socket.on('message', (data: Buffer) => {
      socket.send(`${req.headers.authorization ?? 'no-auth'}|${req.headers.cookie ?? 'no-cookie'}|${data.toString()}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
