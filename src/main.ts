#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { buildApps } from './app.js';
import { helpText } from './config/help.js';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { discoverProvider, type IdentityProvider } from './oidc/provider.js';
import { createStore } from './session/create-store.js';
import type { Logger } from 'pino';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Discovery is retried with backoff for a while: at a cold start the network may not be up yet. */
async function discoverWithRetry(config: Config, log: Logger): Promise<IdentityProvider> {
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
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      log.warn({ attempt, err: { message: (err as Error).message } }, 'identity provider discovery failed; retrying');
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
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
  const log = createLogger({ level: config.logLevel });
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

  const store = await createStore(config.store);
  const provider = await discoverWithRetry(config, log);
  const apps = await buildApps({ config, provider, store, logger: log });
  await apps.admin.listen({ host: config.adminBind.host, port: config.adminBind.port });
  await apps.token.listen({ host: config.tokenBind.host, port: config.tokenBind.port });
  await apps.public.listen({ host: config.bind.host, port: config.bind.port });
  log.info(
    { issuer: provider.metadata.issuer, ingresses: config.ingresses.map((i) => i.url), upstream: config.upstream },
    'vestibule started',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      await apps.public.close();
      await apps.token.close();
      await apps.admin.close();
      await store.close();
      log.flush();
      process.exit(0);
    })();
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
