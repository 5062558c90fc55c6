/**
 * `npm run demo`: vestibule in front of a small "Who am I" app, logging in against the mock Entra ID — all on
 * 127.0.0.1, nothing else to install. vestibule runs as a child process (`src/main.ts`, configured by
 * environment exactly as in production, in-memory sessions) so its real log lines show here.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDemoApp } from '../demo/app.js';
import { generateClientJwk } from '../mock-entra/keys.js';
import { startMockEntra } from '../mock-entra/server.js';
import { freePort } from '../test/support/free-port.js';

const DEFAULT_PORT = 7564;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELP = `Usage: npm run demo [-- --port N]

Starts a mock Entra ID, a demo app and vestibule in front of it, all on 127.0.0.1,
then prints the URL to open. Sessions are kept in memory. Ctrl-C stops everything.

  --port N   vestibule's port (default ${DEFAULT_PORT}, or a free port when it is taken;
             0 always picks a free port)
  --help     show this text

VESTIBULE_* variables you set are passed on, e.g. VESTIBULE_AUTO_LOGIN=true npm run demo.
DEMO_EXIT_AFTER_READY=1 starts everything, prints the ready line and stops again (a smoke test).`;

/** Settings the demo owns: the user's environment never overrides them. */
const OWNED = [
  'VESTIBULE_INGRESS',
  'VESTIBULE_UPSTREAM',
  'VESTIBULE_BIND_ADDRESS',
  'VESTIBULE_ADMIN_BIND_ADDRESS',
  'VESTIBULE_TOKEN_BIND_ADDRESS',
  'VESTIBULE_DEVELOPMENT_MODE',
];

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  probe.listen(port, '127.0.0.1');
  try {
    await once(probe, 'listening');
  } catch {
    return false;
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return true;
}

/** The requested port, the default when free, else any free one. */
async function choosePort(requested: string | undefined): Promise<number> {
  if (requested === undefined) return (await portIsFree(DEFAULT_PORT)) ? DEFAULT_PORT : freePort();
  const port = Number(requested);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, not ${requested}`);
  if (port === 0) return freePort();
  if (!(await portIsFree(port))) throw new Error(`port ${port} on 127.0.0.1 is already in use`);
  return port;
}

/** The child's environment: ours minus any real Entra/vestibule settings, plus the user's VESTIBULE_* tweaks. */
function childEnv(fixed: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('AZURE_') || OWNED.includes(k)) continue;
    env[k] = v;
  }
  return { VESTIBULE_LOG_LEVEL: 'info', ...env, ...fixed };
}

/** One pino JSON line as `12:00:01 INFO  request method=GET status=302`; anything else unchanged. */
function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, service: _s, pid: _p, hostname: _h, reqId: _r, ...rest } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${String(msg)} ${fields}`.trimEnd();
}

interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

/** `http://host:port` of the first address a listener of the start-up line reports, if any. */
function listenerUrl(listen: Record<string, unknown>, name: string): string {
  const first = (listen[name] as ListenAddress[] | undefined)?.[0];
  if (first === undefined) return '(off)';
  return `http://${first.address.includes(':') ? `[${first.address}]` : first.address}:${first.port}`;
}

/**
 * Relays the child's output with a prefix; resolves with the listeners of the "vestibule started" line once
 * vestibule logs that it is listening.
 */
function watchOutput(child: ChildProcessByStdio<null, Readable, Readable>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => {
      reject(new Error(`vestibule exited during start-up (code ${String(code)})`));
    };
    child.once('exit', onExit);
    child.once('error', reject);
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`  vestibule │ ${formatLogLine(line)}\n`);
      if (line.includes('"msg":"vestibule started"')) {
        child.off('exit', onExit);
        resolve((JSON.parse(line) as { listen?: Record<string, unknown> }).listen ?? {});
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      process.stderr.write(`  vestibule │ ${line}\n`);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const port = await choosePort(values.port);
  const ingress = `http://localhost:${port}`;
  const clientId = randomUUID();
  const { privateJwk, publicJwk } = await generateClientJwk();
  const mock = await startMockEntra({
    clients: [
      {
        clientId,
        name: 'local:demo:whoami',
        publicJwks: { keys: [publicJwk] },
        redirectUris: [`${ingress}/oauth2/callback`],
        postLogoutRedirectUris: [`${ingress}/oauth2/logout/callback`],
      },
    ],
  });
  const app = await startDemoApp({ host: '127.0.0.1', port: 0 });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({
      AZURE_APP_CLIENT_ID: clientId,
      AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      VESTIBULE_INGRESS: ingress,
      VESTIBULE_UPSTREAM: app.url,
      VESTIBULE_BIND_ADDRESS: `127.0.0.1:${port}`,
      VESTIBULE_ADMIN_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_TOKEN_BIND_ADDRESS: '127.0.0.1:0',
      // In-memory sessions and a per-process key: allowed only when asked for by name.
      VESTIBULE_DEVELOPMENT_MODE: 'true',
    }),
  });

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all([app.close(), mock.close()]);
    process.stdout.write('Demo stopped.\n');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));

  let listen: Record<string, unknown>;
  try {
    listen = await watchOutput(child);
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  child.once('exit', (code) => {
    if (stopping) return;
    process.stderr.write(`demo: vestibule exited unexpectedly (code ${String(code)})\n`);
    void stop(1);
  });

  const users = mock.users.map((u) => `    • ${u.name.padEnd(16)} ${u.navIdent}  ${u.username}`).join('\n');
  process.stdout.write(`
  vestibule demo
  ──────────────
  Open ${ingress}/ in your browser and click "Log in". The mock Entra ID lets you pick:
${users}
    • or any name typed into its login form
  Mock Entra ID:               ${mock.issuer}
  Demo app (behind vestibule): ${app.url}
  Metrics (admin listener):    ${listenerUrl(listen, 'admin')}/metrics   (also /healthz, /readyz)
  Token API (loopback only):   ${listenerUrl(listen, 'tokenApi')}   (POST /api/v1/token, Texas-compatible)
  Stop with Ctrl-C.

Ready: open ${ingress}/ in your browser
`);
  if (process.env.DEMO_EXIT_AFTER_READY === '1') await stop(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
