#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { buildApps, type Apps } from './app.js';
import { helpText } from './config/help.js';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { instrumentFetch } from './observability/fetch-metrics.js';
import { createLoggers } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { discoverProvider, type IdentityProvider } from './oidc/provider.js';
import { createStore } from './session/create-store.js';
import type { SessionStore } from './session/store.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Discovery is retried with backoff for a while: at a cold start the network may not be up yet. */
async function discoverWithRetry(config: Config, log: Logger, metrics: Metrics): Promise<IdentityProvider> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await discoverProvider({
        wellKnownUrl: config.wellKnownUrl,
        clientId: config.clientId,
        clientAuth: config.clientAuth,
        assertionAudience: config.assertionAudience,
        allowInsecure: config.allowInsecureIdp,
        leewaySec: config.tokenLeewayMs / 1000,
        fetch: instrumentFetch(metrics),
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      log.warn(
        { attempt, failure: { message: (err as Error).message } },
        'identity provider discovery failed; retrying',
      );
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
}

/**
 * SIGTERM: readiness turns 503 at once, the listeners stop accepting, in-flight requests and websockets get
 * the shutdown timeout to finish (then they are cut), the store connection closes, and the process exits 0.
 */
async function shutdown(apps: Apps, store: SessionStore, timeoutMs: number, log: Logger): Promise<void> {
  const servers = [apps.public, apps.token, apps.admin];
  const drained = Promise.all([apps.public.close(), apps.token.close()]);
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  if ((await Promise.race([drained.then(() => 'drained' as const), timer])) === 'timeout') {
    log.warn({ timeoutMs }, 'shutdown timeout reached; closing the remaining connections');
    for (const s of servers) s.server.closeAllConnections();
    apps.cutTunnels();
    await drained;
  }
  await apps.admin.close();
  await store.close();
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(version() + '\n');
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vestibule: ${err.message}\nRun vestibule --help for every setting.\n`);
      return 2;
    }
    throw err;
  }
  const { log, access } = createLoggers({ level: config.logLevel });
  if (config.store.kind === 'memory') {
    log.warn(
      'VESTIBULE_REDIS_URL is not set: sessions are kept in memory, valid for ONE replica only and lost on restart',
    );
  }
  if (config.ephemeralKey) {
    log.warn(
      'VESTIBULE_ENCRYPTION_KEY is not set: a random key was made for this process; sessions end when it restarts',
    );
  }
  if (config.allowInsecureIdp) log.warn('the identity provider is reached over plain http (loopback development only)');

  const metrics = new Metrics();
  const store = await createStore(config.store, { logger: log });
  const provider = await discoverWithRetry(config, log, metrics);
  let accepting = true;
  const apps = await buildApps({
    config,
    provider,
    store,
    logger: log,
    accessLogger: access,
    metrics,
    isAccepting: () => accepting,
  });
  await apps.admin.listen({ host: config.adminBind.host, port: config.adminBind.port });
  await apps.token.listen({ host: config.tokenBind.host, port: config.tokenBind.port });
  await apps.public.listen({ host: config.bind.host, port: config.bind.port });
  log.info(
    {
      issuer: provider.metadata.issuer,
      ingresses: config.ingresses.map((i) => i.url),
      upstream: config.upstream,
      store: config.store.kind,
      listen: { public: apps.public.addresses(), admin: apps.admin.addresses(), token: apps.token.addresses() },
    },
    'vestibule started',
  );

  const stop = (signal: string): void => {
    if (!accepting) return;
    accepting = false;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    shutdown(apps, store, config.shutdownTimeoutMs, log).then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ failure: { message: (err as Error).message } }, 'shutdown failed');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vestibule: failed to start: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
