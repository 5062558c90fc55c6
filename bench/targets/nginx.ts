/**
 * Target (c): nginx `proxy_pass` (Debian nginx-light), the floor of any proxy. One process (`master_process
 * off`), a keep-alive pool to the upstream, no access log; config, pid, logs and temp paths in the run's temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, waitForHttp, which } from '../processes.js';
import type { BenchContext, TargetStart } from '../target.js';
import { nginxConf } from '../../test/support/nginx-conf.js';

const LABEL = '(c) nginx proxy_pass';

/** The whole nginx.conf for a proxy on `port` in front of `upstreamPort`, everything kept under `dir`. */
export function nginxConfig(dir: string, port: number, upstreamPort: number): string {
  return nginxConf(
    dir,
    `  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
    { errorLogLevel: 'warn', workerConnections: 4096 },
  );
}

export async function nginxProxy(ctx: BenchContext): Promise<TargetStart> {
  const nginx = which('nginx');
  if (!nginx) return { id: 'c', label: LABEL, reason: 'nginx is not installed (apt-get install -y nginx-light)' };
  const dir = join(ctx.tmp, 'nginx');
  mkdirSync(dir);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, ctx.ports.nginx, ctx.ports.upstream));
  const service = ctx.track(
    startService({
      name: 'nginx',
      command: nginx,
      args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')],
      logDir: dir,
    }),
  );
  const url = `http://127.0.0.1:${ctx.ports.nginx}/`;
  await waitForHttp(service, url, 15_000, 200);
  return { id: 'c', label: LABEL, url, headers: {}, pid: service.pid };
}
