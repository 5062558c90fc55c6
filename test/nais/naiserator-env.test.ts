/**
 * The proof that vestibule replaces both NAIS sidecars: the built image's entry point (`node dist/src/main.js`)
 * started with exactly the environment naiserator and azurerator inject for an Entra ID app with Wonderwall
 * (`spec.azure.sidecar`) and Texas enabled — names real, values fake, no VESTIBULE_ variable — against the mock
 * Entra ID and a Redis that demands an ACL user and password, as NAIS's Valkey does.
 *
 * Sources of the environment: naiserator 808737d `pkg/resourcecreator/wonderwall/wonderwall.go` (envVars,
 * autoLoginIgnorePaths) and `texas/texas.go` (Clients.EnvVars, otelEnvVars); wonderwall 1e1066a
 * `charts/wonderwall/templates/replicationconfig.yaml` (the wonderwall-azure-config secret); azurerator's
 * secret keys (docs reference entra.md §A.1 c).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { freePort } from '../support/free-port.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import { metricNames, renderRule } from '../support/prometheus-rule.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

/** The NAIS ports: proxy, metrics, Wonderwall's probe, Texas, Texas's probe. */
const NAIS_PORTS = { proxy: 7564, metrics: 7565, probe: 7566, token: 7164, tokenProbe: 7165 } as const;
type Ports = Record<keyof typeof NAIS_PORTS, number>;

const isFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A redis-server on a free loopback port whose default user is off: only `user` with `password` gets in. */
async function startAclRedis(user: string, password: string): Promise<{ port: number; close: () => Promise<void> }> {
  const port = await freePort();
  const p = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--user',
      'default',
      'off',
      '--user',
      user,
      'on',
      `>${password}`,
      '~*',
      '&*',
      '+@all',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${String(code)}: ${out}`));
    });
  });
  p.removeAllListeners('exit');
  return {
    port,
    close: async () => {
      if (p.exitCode !== null) return;
      p.kill('SIGKILL');
      await once(p, 'exit');
    },
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vestibule from dist/ with the environment naiserator injects (Entra ID, Wonderwall + Texas)', () => {
  let mock: MockEntra;
  let upstream: Upstream;
  let redis: Awaited<ReturnType<typeof startAclRedis>>;
  let child: ChildProcess | undefined;
  let output = '';
  let ports: Ports;
  let ingress: string;

  before(async (t) => {
    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, `tsc -p tsconfig.build.json failed:\n${build.stdout}${build.stderr}`);

    // The real NAIS ports prove the defaults; any that is taken on this machine is replaced by a free one.
    const entries = await Promise.all(
      Object.entries(NAIS_PORTS).map(async ([k, p]) => [k, (await isFree(p)) ? p : await freePort()] as const),
    );
    ports = Object.fromEntries(entries) as Ports;
    const moved = entries.filter(([k, p]) => NAIS_PORTS[k as keyof Ports] !== p);
    if (moved.length > 0)
      t.diagnostic(`NAIS ports in use here, moved: ${moved.map(([k, p]) => `${k}→${p}`).join(', ')}`);

    const password = randomBytes(12).toString('base64url');
    redis = await startAclRedis('wonderwall-azure', password);
    upstream = await startUpstream();
    ingress = `http://127.0.0.1:${ports.proxy}`;
    const clientId = randomUUID();
    const { privateJwk, publicJwk } = await generateClientJwk();
    const tenant = randomUUID();
    mock = await startMockEntra({
      tenantId: tenant,
      clients: [
        {
          clientId,
          name: 'test:team:app',
          publicJwks: { keys: [publicJwk] },
          redirectUris: [`${ingress}/oauth2/callback`],
          postLogoutRedirectUris: [`${ingress}/oauth2/logout/callback`],
        },
        { clientId: randomUUID(), name: 'test:team:other' },
      ],
    });
    const metadata = (await (await fetch(mock.wellKnownUrl)).json()) as Record<string, string>;
    const upstreamUrl = new URL(upstream.url);
    const env: Record<string, string> = {
      // azurerator's secret (envFrom on both containers)
      AZURE_APP_CLIENT_ID: clientId,
      AZURE_APP_CLIENT_SECRET: 'a-fake-secret-never-used',
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      AZURE_APP_JWKS: JSON.stringify({ keys: [publicJwk] }),
      AZURE_APP_CERTIFICATE_KEY_ID: randomUUID(),
      AZURE_APP_PASSWORD_KEY_ID: randomUUID(),
      AZURE_APP_NEXT_CERTIFICATE_KEY_ID: randomUUID(),
      AZURE_APP_NEXT_PASSWORD_KEY_ID: randomUUID(),
      AZURE_APP_NEXT_CLIENT_SECRET: 'a-fake-next-secret',
      AZURE_APP_NEXT_JWK: JSON.stringify(privateJwk),
      AZURE_APP_PRE_AUTHORIZED_APPS: `[{"name":"test:team:caller","clientId":"${randomUUID()}"}]`,
      AZURE_APP_TENANT_ID: tenant,
      AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
      AZURE_OPENID_CONFIG_ISSUER: metadata.issuer ?? '',
      AZURE_OPENID_CONFIG_JWKS_URI: metadata.jwks_uri ?? '',
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: metadata.token_endpoint ?? '',
      // naiserator: the wonderwall container's env
      WONDERWALL_OPENID_PROVIDER: 'azure',
      WONDERWALL_INGRESS: `${ingress}/`,
      WONDERWALL_UPSTREAM_IP: upstreamUrl.hostname,
      WONDERWALL_UPSTREAM_PORT: upstreamUrl.port,
      WONDERWALL_BIND_ADDRESS: `127.0.0.1:${ports.proxy}`,
      WONDERWALL_METRICS_BIND_ADDRESS: `127.0.0.1:${ports.metrics}`,
      WONDERWALL_PROBE_BIND_ADDRESS: `127.0.0.1:${ports.probe}`,
      WONDERWALL_AUTO_LOGIN: 'true',
      WONDERWALL_AUTO_LOGIN_IGNORE_PATHS: '/metrics,/internal/liveness,/internal/readiness,/internal/*,/path',
      OTEL_SERVICE_NAME: 'wonderwall',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=wonderwall,service.namespace=team,wonderwall.upstream.name=app',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_INSECURE: 'true',
      // naiserator: the per-app secret azure-wonderwall-<app>
      WONDERWALL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // the wonderwall chart: the wonderwall-azure-config secret
      WONDERWALL_REDIS_CONNECTION_IDLE_TIMEOUT: '299',
      WONDERWALL_REDIS_URI: `redis://127.0.0.1:${redis.port}`,
      WONDERWALL_REDIS_USERNAME: 'wonderwall-azure',
      WONDERWALL_REDIS_PASSWORD: password,
      WONDERWALL_SESSION_MAX_LIFETIME: '10h',
      // naiserator: the texas container's env
      BIND_ADDRESS: `127.0.0.1:${ports.token}`,
      PROBE_BIND_ADDRESS: `127.0.0.1:${ports.tokenProbe}`,
      NAIS_POD_NAME: 'app-7d9f8b6c5-x2x9q',
      AZURE_ENABLED: 'true',
    };
    assert.ok(!Object.keys(env).some((k) => k.startsWith('VESTIBULE_')));
    const c = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const healthy = (port: number) => async () => {
      if (c.exitCode !== null) throw new Error(`vestibule exited with ${c.exitCode}:\n${output}`);
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return r.status === 200 ? r : undefined;
    };
    await until(`the probe on ${ports.probe}`, 20_000, healthy(ports.probe)).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${output}`);
    });
  });

  after(async () => {
    const c = child;
    if (c?.exitCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await mock.close();
    await upstream.close();
    await redis.close();
  });

  it("answers naiserator's startup probes on Wonderwall's and Texas's probe ports, and metrics on 7565", async () => {
    for (const port of [ports.probe, ports.tokenProbe]) {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(r.status, 200, `GET /healthz on ${port}`);
      assert.equal(await r.text(), 'ok\n');
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, `GET /readyz on ${port}`);
    }
    const metrics = await fetch(`http://127.0.0.1:${ports.metrics}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP /m);
  });

  it('logs the NAIS variables it read, and warns about none of them', async () => {
    // pino writes asynchronously: on a busy machine the line may reach the pipe after the ready signal.
    for (let waited = 0; !output.includes('"readFrom"') && waited < 5000; waited += 50) await sleep(50);
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; readFrom?: Record<string, string> });
    const read = lines.find((l) => l.readFrom)?.readFrom;
    assert.ok(read, 'the readFrom line is logged');
    assert.equal(read.VESTIBULE_UPSTREAM, 'WONDERWALL_UPSTREAM_IP + WONDERWALL_UPSTREAM_PORT');
    assert.equal(
      read.VESTIBULE_REDIS_URL,
      'WONDERWALL_REDIS_URI + WONDERWALL_REDIS_USERNAME + WONDERWALL_REDIS_PASSWORD',
    );
    assert.deepEqual(
      lines.filter((l) => l.level >= 40).map((l) => l.msg),
      [],
      'a plain NAIS environment gives no warning',
    );
  });

  it('logs in through the proxy (sessions in the ACL-protected Redis) and forwards with the bearer', async () => {
    const browser = new TestClient();
    const { callback } = await login({ ingress }, browser, { redirect: '/reports' });
    assert.equal(callback.status, 302, callback.body);
    assert.equal(callback.location, `${ingress}/reports`);
    const r = await browser.get(`${ingress}/reports`, NAVIGATION);
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/reports');
    assert.match(seen.headers.authorization ?? '', /^Bearer eyJ/);
  });

  it("auto-logs-in as Wonderwall does, leaving naiserator's ignore paths alone", async () => {
    const anonymous = new TestClient();
    const nav = await anonymous.get(`${ingress}/reports`, NAVIGATION);
    assert.equal(nav.status, 302);
    assert.match(nav.location ?? '', /\/oauth2\/login\?/);
    const api = await anonymous.get(`${ingress}/api/data`, { accept: 'application/json' });
    assert.equal(api.status, 401);
    for (const path of ['/internal/liveness', '/internal/readiness', '/metrics', '/internal/anything', '/path']) {
      const r = await anonymous.get(`${ingress}${path}`, NAVIGATION);
      assert.equal(r.status, 200, `${path} reaches the app without a login`);
      const seen = JSON.parse(r.body) as { headers: Record<string, string> };
      assert.equal(seen.headers.authorization, undefined);
    }
  });

  it("answers a client-credentials request on Texas's port for a NAIS-shaped target", async () => {
    const r = await fetch(`http://127.0.0.1:${ports.token}/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity_provider: 'azuread', target: 'api://test.team.other/.default' }),
    });
    const body = (await r.json()) as { access_token?: string; token_type?: string; expires_in?: number };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    assert.match(body.access_token ?? '', /^eyJ/);
    assert.ok((body.expires_in ?? 0) > 0);
  });

  it("answers a client-credentials request for Microsoft Graph on Texas's port: the target goes to Entra unchanged", async () => {
    const r = await fetch(`http://127.0.0.1:${ports.token}/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity_provider: 'azuread', target: 'https://graph.microsoft.com/.default' }),
    });
    const body = (await r.json()) as { access_token?: string; token_type?: string };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.match(body.access_token ?? '', /^eyJ/);
  });

  it("serves every series Wonderwall's alert (the chart's PrometheusRule) reads, labelled as NAIS's alert selects", async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const { groups } = renderRule('team-a', 'nais-system/monitoring-vestibule');
    // Wonderwall's alert group (the chart's own vestibule alerts read vestibule_* series: dashboards.test.ts).
    const exprs = groups.filter((g) => g.name.endsWith('-login')).flatMap((g) => g.rules.map((r) => r.expr));
    assert.ok(exprs.length > 0, 'the chart renders at least one alert');
    for (const name of exprs.flatMap(metricNames)) {
      assert.match(text, new RegExp(`^${name}\\{[^}]*provider="azure"`, 'm'), `${name} with provider="azure"`);
    }
  });
});
