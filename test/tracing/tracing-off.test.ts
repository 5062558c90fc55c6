import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';

const root = join(import.meta.dirname, '../..');

/**
 * Starts and stops vestibule (development mode: no Redis) in a child process that records every module it
 * resolves, and answers those of tracing: the OpenTelemetry SDK and exporters, gRPC, and src/tracing/otel.ts.
 */
async function tracingModulesLoaded(env: Record<string, string>): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const r = next(specifier, context);
        // @opentelemetry/api is not counted: prom-client requires it (its own dependency) whatever we do.
        const m = /node_modules\\/(@opentelemetry\\/(?!api\\/)[^/]+|@grpc\\/[^/]+)|src\\/tracing\\/otel\\.ts/.exec(r.url);
        if (m) seen.add(m[1] ?? m[0]);
        return r;
      },
    });
    const { loadConfig } = await import('./src/config/load.ts');
    const { start } = await import('./src/start.ts');
    const { pino } = await import('pino');
    const v = await start(loadConfig(process.env), { logger: pino({ level: 'silent' }), discoveryRetryMs: 0 });
    // One request through the public listener's hooks (where a server span would start).
    await fetch('http://127.0.0.1:' + v.public.server.address().port + '/oauth2/session');
    await v.stop(1000);
    // As main.ts does: exit once stopped (an exporter still retrying a dead collector would keep the loop alive).
    process.stdout.write(JSON.stringify([...seen].sort()), () => process.exit(0));
  `;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(OTEL_|AZURE_|VESTIBULE_|WONDERWALL_)/.test(k)),
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: root, env: { ...inherited, ...env }, encoding: 'utf8' },
  );
  return JSON.parse(stdout) as string[];
}

describe('tracing off costs nothing: the SDK is never loaded', () => {
  let mock: MockEntra;
  let base: Record<string, string>;
  before(async () => {
    const { privateJwk, publicJwk } = await generateClientJwk();
    mock = await startMockEntra({
      clients: [{ clientId: 'off-test', name: 'test:team:app', publicJwks: { keys: [publicJwk] } }],
    });
    base = {
      AZURE_APP_CLIENT_ID: 'off-test',
      AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      VESTIBULE_DEVELOPMENT_MODE: 'true',
      VESTIBULE_INGRESS: 'http://127.0.0.1:17564',
      VESTIBULE_UPSTREAM: 'http://127.0.0.1:9',
      VESTIBULE_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_ADMIN_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_TOKEN_BIND_ADDRESS: '127.0.0.1:0',
      VESTIBULE_LOG_LEVEL: 'silent',
    };
  });
  after(() => mock.close());

  it('without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry SDK, exporter or gRPC module is resolved', async () => {
    assert.deepEqual(await tracingModulesLoaded(base), []);
  });

  it('OTEL_TRACES_EXPORTER=none keeps it off even with an endpoint (NAIS injects one)', async () => {
    const loaded = await tracingModulesLoaded({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_TRACES_EXPORTER: 'none',
    });
    assert.deepEqual(loaded, []);
  });

  it('with an endpoint the same check sees the SDK load (so the two above can fail); grpc only when asked', async () => {
    const http = await tracingModulesLoaded({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    for (const m of ['src/tracing/otel.ts', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-proto']) {
      assert.ok(http.includes(m), `${m} in ${http.join(', ')}`);
    }
    assert.ok(
      !http.some((m) => m.startsWith('@grpc/') || m.endsWith('-grpc')),
      `no gRPC for http/protobuf: ${http.join(', ')}`,
    );
    const grpc = await tracingModulesLoaded({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    assert.ok(grpc.includes('@opentelemetry/exporter-trace-otlp-grpc'), grpc.join(', '));
  });
});
