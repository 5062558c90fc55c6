/** Target (b): bare Fastify + @fastify/http-proxy, no authentication (see `bench/fastify-proxy-server.ts`). */
import { startService, waitForHttp } from '../processes.js';
import type { BenchContext, Target } from '../target.js';

export async function fastifyProxy(ctx: BenchContext): Promise<Target> {
  const port = ctx.ports.fastify;
  const service = ctx.track(
    startService({
      name: 'fastify-proxy',
      command: process.execPath,
      args: [...ctx.fastifyProxyArgs, '--port', String(port), '--upstream', ctx.upstreamUrl],
      cwd: ctx.root,
      env: { ...process.env, NODE_ENV: 'production' },
      logDir: ctx.tmp,
    }),
  );
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(service, url, 30_000, 200);
  return { id: 'b', label: '(b) bare Fastify proxy', url, headers: {}, pid: service.pid };
}
