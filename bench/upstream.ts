/**
 * The app behind every proxy in the benchmark: a minimal node:http server answering every request with a small
 * fixed JSON body, so the table measures the proxies, not the app. Run as its own process:
 * `node --import tsx bench/upstream.ts --port N`.
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const BODY = Buffer.from('{"ok":true,"service":"bench-upstream"}\n');

/** The upstream server (not listening yet). Keep-alive is long so proxies' connection pools are never cut. */
export function createUpstream(): Server {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 120_000;
  return server;
}

function main(): void {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const server = createUpstream();
  server.listen(Number(values.port ?? '0'), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
