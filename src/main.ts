#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { helpText } from './config/help.js';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { createLoggers } from './observability/logger.js';
import { start } from './start.js';

/** package.json's version: two levels up from dist/src/main.js (the image), one from src/main.ts (tsx). */
function version(): string {
  const at = import.meta.url.includes('/dist/src/') ? '../../package.json' : '../package.json';
  const pkg = JSON.parse(readFileSync(new URL(at, import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const OPTIONS = ['--help', '-h', '--version'];

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => !OPTIONS.includes(a));
  if (unknown.length > 0) {
    // Settings are environment variables only: a flag here is a mistake, never silently ignored.
    process.stderr.write(
      `vestibule: unknown option ${unknown.map((a) => JSON.stringify(a)).join(', ')}; vestibule takes only --help, -h and --version and is configured through environment variables.\nRun vestibule --help for every setting.\n`,
    );
    return 2;
  }
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
      'development mode: sessions are kept in memory, valid for ONE replica only and lost on restart (set VESTIBULE_REDIS_URL for production)',
    );
  }
  if (config.ephemeralKey) {
    log.warn(
      'development mode: a random encryption key was made for this process; sessions end when it restarts (set VESTIBULE_ENCRYPTION_KEY for production)',
    );
  }
  if (config.allowInsecureIdp) log.warn('the identity provider is reached over plain http (loopback development only)');
  for (const warning of config.warnings) log.warn(warning);
  if (Object.keys(config.readFrom).length > 0) {
    log.info(
      { readFrom: config.readFrom },
      'settings read from the variables NAIS (Wonderwall, Texas) or Azure Workload Identity inject',
    );
  }

  const vestibule = await start(config, { logger: log, accessLogger: access });
  const discovered = vestibule.provider.metadata;
  for (const [variable, injected, found] of [
    ['AZURE_OPENID_CONFIG_ISSUER', config.openidConfig.issuer, discovered.issuer],
    ['AZURE_OPENID_CONFIG_TOKEN_ENDPOINT', config.openidConfig.tokenEndpoint, discovered.tokenEndpoint],
  ] as const) {
    if (injected !== undefined && injected !== found) {
      log.warn(
        { variable, injected, discovered: found },
        `${variable} differs from the discovery document; discovery is used`,
      );
    }
  }
  log.info(
    {
      issuer: vestibule.provider.metadata.issuer,
      ingresses: config.ingresses.map((i) => i.url),
      upstream: config.upstream,
      store: config.store.kind,
      listen: {
        public: vestibule.public.addresses(),
        admin: vestibule.admin.addresses(),
        // Not `token`: that key is redacted wherever it appears, and an address is no secret.
        tokenApi: vestibule.token.addresses(),
        probe: vestibule.probe.addresses(),
        tokenProbe: vestibule.tokenProbe.addresses(),
      },
    },
    'vestibule started',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    vestibule.stop(config.shutdownTimeoutMs).then(
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
