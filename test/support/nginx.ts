import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { nginxConf } from './nginx-conf.js';

/** Debian's nginx-light (`apt-get install -y nginx-light`; `.ci/run` installs it). */
export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export interface Nginx {
  readonly port: number;
  readonly origin: string;
  /** The error log so far (for assertion messages). */
  errorLog(): string;
  close(): Promise<void>;
}

/**
 * A private nginx (one process, not a daemon) serving the given `http {}` contents, with its pid, logs and
 * temp paths in its own temp dir. `httpBody` receives the port nginx must listen on.
 */
export async function startNginx(httpBody: (port: number) => string): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed: apt-get install -y nginx-light');
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(dir, httpBody(port)));
  const errorLog = (): string =>
    existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
  const proc: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited (${String(proc.exitCode)}): ${stderr}${errorLog()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${port}: ${stderr}${errorLog()}`);
    }
    await sleep(50);
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    errorLog,
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGQUIT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        await once(proc, 'exit');
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The first ```nginx block of a Markdown file. */
export function nginxBlockOf(markdown: string): string {
  const m = /```nginx\n([\s\S]*?)```/.exec(markdown);
  if (!m?.[1]) throw new Error('no ```nginx block');
  return m[1];
}
