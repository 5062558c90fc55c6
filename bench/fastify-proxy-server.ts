/**
 * Target (b)'s process: a bare Fastify with @fastify/http-proxy and no authentication, with the same versions and
 * the same undici pool settings as vestibule's proxy: the floor of our stack. Run as its own process:
 * `node --import tsx bench/fastify-proxy-server.ts --port N --upstream URL`.
 */
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { parseArgs } from 'node:util';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
  if (values.upstream === undefined || values.port === undefined) throw new Error('--port and --upstream are required');
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  await app.register(fastifyHttpProxy, {
    upstream: values.upstream,
    prefix: '/',
    undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 },
    replyOptions: { retryDelay: () => null },
  });
  await app.listen({ host: '127.0.0.1', port: Number(values.port) });
  process.once('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fastify-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
