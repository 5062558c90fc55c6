import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { allSettings, ignoredVariables, isComposite } from './settings.js';

const JWK = JSON.stringify({ kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'x', e: 'AQAB', d: 'secret-d-value' });
const TENANT = '77678b69-1daf-47b6-9072-771d270ac800';
const KEY = randomBytes(32).toString('base64');

/** The Wonderwall and Texas containers' environment as naiserator and azurerator inject it (values fake). */
const nais: Record<string, string> = {
  AZURE_APP_CLIENT_ID: 'e89006c5-7193-4ca3-8e26-d0990d9d981f',
  AZURE_APP_WELL_KNOWN_URL: `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
  AZURE_APP_JWK: JWK,
  AZURE_APP_TENANT_ID: TENANT,
  AZURE_APP_PRE_AUTHORIZED_APPS: '[{"name":"dev-gcp:team:caller","clientId":"0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e"}]',
  AZURE_OPENID_CONFIG_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  AZURE_OPENID_CONFIG_JWKS_URI: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
  AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
  WONDERWALL_OPENID_PROVIDER: 'azure',
  WONDERWALL_INGRESS: 'https://my-client.nav.no/,https://my-old-client.nav.no',
  WONDERWALL_UPSTREAM_IP: '10.0.3.17',
  WONDERWALL_UPSTREAM_PORT: '1234',
  WONDERWALL_BIND_ADDRESS: '0.0.0.0:7564',
  WONDERWALL_METRICS_BIND_ADDRESS: '0.0.0.0:7565',
  WONDERWALL_PROBE_BIND_ADDRESS: '0.0.0.0:7566',
  WONDERWALL_AUTO_LOGIN: 'true',
  WONDERWALL_AUTO_LOGIN_IGNORE_PATHS: '/metrics,/internal/liveness,/internal/readiness,/internal/*,/path',
  WONDERWALL_ENCRYPTION_KEY: KEY,
  WONDERWALL_REDIS_CONNECTION_IDLE_TIMEOUT: '299',
  WONDERWALL_REDIS_URI: 'rediss://redis-team-wonderwall.aivencloud.com:26483',
  WONDERWALL_REDIS_USERNAME: 'wonderwall-azure',
  WONDERWALL_REDIS_PASSWORD: 'p@ss:w/rd',
  WONDERWALL_SESSION_MAX_LIFETIME: '10h',
  BIND_ADDRESS: '127.0.0.1:7164',
  PROBE_BIND_ADDRESS: '0.0.0.0:7165',
  NAIS_POD_NAME: 'app-7d9f8b6c5-x2x9q',
  AZURE_ENABLED: 'true',
  OTEL_SERVICE_NAME: 'wonderwall',
  OTEL_RESOURCE_ATTRIBUTES: 'service.name=wonderwall,service.namespace=team,wonderwall.upstream.name=app',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://opentelemetry-collector.nais-system:4317',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
  OTEL_EXPORTER_OTLP_INSECURE: 'true',
};

function problemText(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('the variables naiserator injects for Wonderwall and Texas', () => {
  it('configure vestibule without a single VESTIBULE_ variable', () => {
    const c = loadConfig(nais);
    assert.deepEqual(
      c.ingresses.map((i) => i.url),
      ['https://my-client.nav.no', 'https://my-old-client.nav.no'],
    );
    assert.equal(c.upstream, 'http://10.0.3.17:1234');
    assert.deepEqual(c.bind, { host: '0.0.0.0', port: 7564 });
    assert.deepEqual(c.adminBind, { host: '0.0.0.0', port: 7565 });
    assert.deepEqual(c.probeBind, { host: '0.0.0.0', port: 7566 });
    assert.deepEqual(c.tokenBind, { host: '127.0.0.1', port: 7164 });
    assert.deepEqual(c.tokenProbeBind, { host: '0.0.0.0', port: 7165 });
    assert.equal(c.autoLogin, true);
    assert.deepEqual(c.autoLoginIgnorePaths, [
      '/metrics',
      '/internal/liveness',
      '/internal/readiness',
      '/internal/*',
      '/path',
    ]);
    assert.deepEqual(c.encryptionKey, Buffer.from(KEY, 'base64'));
    assert.deepEqual(c.store, {
      kind: 'redis',
      url: 'rediss://wonderwall-azure:p%40ss%3Aw%2Frd@redis-team-wonderwall.aivencloud.com:26483',
    });
    const u = new URL('rediss://wonderwall-azure:p%40ss%3Aw%2Frd@redis-team-wonderwall.aivencloud.com:26483');
    assert.equal(decodeURIComponent(u.password), 'p@ss:w/rd', 'the password survives the URL');
    assert.equal(c.sessionMaxLifetimeMs, 10 * 3_600_000);
    assert.equal(c.sessionInactivityTimeoutMs, null);
    assert.equal(c.tenantId, TENANT);
    assert.deepEqual(c.preAuthorizedApps, [
      { name: 'dev-gcp:team:caller', clientId: '0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e' },
    ]);
    assert.equal(c.openidConfig.tokenEndpoint, nais.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT);
    assert.deepEqual(c.otel, {
      tracing: true,
      serviceName: 'wonderwall',
      endpoint: 'http://opentelemetry-collector.nais-system:4317',
      tracesEndpoint: undefined,
      headers: {},
      sampler: 'parentbased_always_on',
      samplerArg: 1,
      batchDelayMs: 5000,
      protocol: 'grpc',
      insecure: true,
      resourceAttributes: {
        'service.name': 'wonderwall',
        'service.namespace': 'team',
        'wonderwall.upstream.name': 'app',
      },
      podName: 'app-7d9f8b6c5-x2x9q',
    });
    assert.equal(c.readFrom.VESTIBULE_UPSTREAM, 'WONDERWALL_UPSTREAM_IP + WONDERWALL_UPSTREAM_PORT');
    assert.deepEqual(c.warnings, [], 'a plain NAIS environment warns about nothing');
  });

  it('VESTIBULE_ variables win over the aliases', () => {
    const c = loadConfig({ ...nais, VESTIBULE_UPSTREAM: 'http://127.0.0.1:9000', VESTIBULE_AUTO_LOGIN: 'false' });
    assert.equal(c.upstream, 'http://127.0.0.1:9000');
    assert.equal(c.autoLogin, false);
    assert.equal(c.readFrom.VESTIBULE_UPSTREAM, undefined);
  });

  it('two aliases that disagree stop start-up naming both', () => {
    const text = problemText({ ...nais, WONDERWALL_UPSTREAM_HOST: '127.0.0.1:8080', WONDERWALL_UPSTREAM_IP: '' });
    assert.doesNotMatch(text, /disagree/, 'HOST alone is not a conflict');
    const both = problemText({
      ...nais,
      WONDERWALL_OPENID_WELL_KNOWN_URL: 'https://login.microsoftonline.com/other/v2.0/.well-known/openid-configuration',
      AZURE_APP_WELL_KNOWN_URL: '',
    });
    assert.match(
      both,
      /WONDERWALL_OPENID_WELL_KNOWN_URL and AZURE_OPENID_CONFIG_ISSUER are both read as AZURE_APP_WELL_KNOWN_URL and disagree/,
    );
  });

  it('the same value under two aliases is no conflict', () => {
    const c = loadConfig({
      ...nais,
      AZURE_APP_WELL_KNOWN_URL: '',
      WONDERWALL_OPENID_WELL_KNOWN_URL: nais.AZURE_APP_WELL_KNOWN_URL ?? '',
    });
    assert.equal(c.wellKnownUrl, nais.AZURE_APP_WELL_KNOWN_URL);
  });

  it('a bad alias value names the alias and a valid example', () => {
    assert.match(
      problemText({ ...nais, WONDERWALL_UPSTREAM_PORT: '99999' }),
      /WONDERWALL_UPSTREAM_PORT must be between 1 and 65535\. Example: WONDERWALL_UPSTREAM_IP=/,
    );
    assert.match(
      problemText({ ...nais, WONDERWALL_UPSTREAM_PORT: '' }),
      /WONDERWALL_UPSTREAM_PORT must be set when WONDERWALL_UPSTREAM_IP is/,
    );
    assert.match(
      problemText({ ...nais, WONDERWALL_SESSION_MAX_LIFETIME: 'forever' }),
      /WONDERWALL_SESSION_MAX_LIFETIME \(read as VESTIBULE_SESSION_MAX_LIFETIME\) is not a duration.*Example: WONDERWALL_SESSION_MAX_LIFETIME=8h/,
    );
    const key = problemText({ ...nais, WONDERWALL_ENCRYPTION_KEY: 'c2hvcnQ=' });
    assert.match(
      key,
      /WONDERWALL_ENCRYPTION_KEY \(read as VESTIBULE_ENCRYPTION_KEY\) decodes to 5 bytes; needs exactly 32; make one with: openssl rand -base64 32/,
    );
    assert.doesNotMatch(key, /c2hvcnQ/, 'the secret is not echoed');
    assert.match(problemText({ ...nais, WONDERWALL_LOG_LEVEL: 'loud' }), /WONDERWALL_LOG_LEVEL must be one of panic/);
  });

  it('converts formats: logrus levels, Go booleans, the inactivity pair, Wonderwall scopes, Redis address', () => {
    assert.equal(loadConfig({ ...nais, WONDERWALL_LOG_LEVEL: 'warning' }).logLevel, 'warn');
    assert.equal(loadConfig({ ...nais, WONDERWALL_AUTO_LOGIN: 'T' }).autoLogin, true);
    assert.equal(
      loadConfig({ ...nais, WONDERWALL_SESSION_INACTIVITY: 'true' }).sessionInactivityTimeoutMs,
      30 * 60_000,
    );
    assert.equal(
      loadConfig({ ...nais, WONDERWALL_SESSION_INACTIVITY: 'true', WONDERWALL_SESSION_INACTIVITY_TIMEOUT: '1h' })
        .sessionInactivityTimeoutMs,
      3_600_000,
    );
    assert.equal(
      loadConfig({ ...nais, WONDERWALL_SESSION_INACTIVITY_TIMEOUT: '1h' }).sessionInactivityTimeoutMs,
      null,
      'as in Wonderwall, the timeout alone does not turn inactivity on',
    );
    assert.deepEqual(loadConfig({ ...nais, WONDERWALL_OPENID_SCOPES: 'User.Read' }).scopes, [
      'openid',
      'offline_access',
      'api://e89006c5-7193-4ca3-8e26-d0990d9d981f/.default',
      'User.Read',
    ]);
    const { WONDERWALL_REDIS_URI: _uri, ...noUri } = nais;
    const c = loadConfig({
      ...noUri,
      WONDERWALL_REDIS_ADDRESS: 'redis.example.com:6379',
      WONDERWALL_REDIS_TLS: 'false',
    });
    assert.equal(c.store.kind === 'redis' && new URL(c.store.url).protocol, 'redis:');
  });

  it('derives the discovery URL from AZURE_OPENID_CONFIG_ISSUER when the well-known URL is unset', () => {
    const { AZURE_APP_WELL_KNOWN_URL: _w, ...rest } = nais;
    assert.equal(loadConfig(rest).wellKnownUrl, nais.AZURE_APP_WELL_KNOWN_URL);
    const { AZURE_OPENID_CONFIG_ISSUER: _i, ...neither } = rest;
    assert.match(problemText(neither), /AZURE_APP_WELL_KNOWN_URL is required \(or AZURE_OPENID_CONFIG_ISSUER/);
  });

  it('warns once about unknown WONDERWALL_ and TEXAS_ variables, and about ignored values that matter', () => {
    const c = loadConfig({
      ...nais,
      WONDERWALL_AUTO_LOGIN_IGNORE_PATH: '/typo',
      TEXAS_HTTP_POOL_MAX_IDLE: '10',
      WONDERWALL_PPROF_ENABLED: 'true',
      WONDERWALL_COOKIE_PREFIX: 'x',
    });
    assert.deepEqual(c.warnings, [
      'WONDERWALL_PPROF_ENABLED is ignored: no profiler endpoints',
      'WONDERWALL_AUTO_LOGIN_IGNORE_PATH is not a variable vestibule knows (a typo?); it is ignored. docs/migrating.md lists them',
    ]);
  });

  it('refuses what it cannot do where ignoring it would weaken the protection', () => {
    assert.match(
      problemText({ ...nais, WONDERWALL_OPENID_PROVIDER: 'idporten' }),
      /WONDERWALL_OPENID_PROVIDER must be azure/,
    );
    assert.match(problemText({ ...nais, WONDERWALL_SSO_ENABLED: 'true' }), /WONDERWALL_SSO_ENABLED is not supported/);
  });

  it('each listener can be moved or turned off, and two on one port stop start-up', () => {
    const c = loadConfig({ ...nais, WONDERWALL_PROBE_BIND_ADDRESS: 'off', VESTIBULE_TOKEN_PROBE_BIND_ADDRESS: 'off' });
    assert.equal(c.probeBind, null);
    assert.equal(c.tokenProbeBind, null);
    const { WONDERWALL_PROBE_BIND_ADDRESS: _p, PROBE_BIND_ADDRESS: _t, ...none } = nais;
    assert.equal(loadConfig(none).probeBind, null, 'off unless set, as in Wonderwall and Texas');
    assert.match(
      problemText({ ...nais, PROBE_BIND_ADDRESS: '0.0.0.0:7566' }),
      /VESTIBULE_TOKEN_PROBE_BIND_ADDRESS uses port 7566, as VESTIBULE_PROBE_BIND_ADDRESS \(WONDERWALL_PROBE_BIND_ADDRESS\) does/,
    );
  });

  it('malformed AZURE_APP_PRE_AUTHORIZED_APPS stops start-up', () => {
    assert.match(
      problemText({ ...nais, AZURE_APP_PRE_AUTHORIZED_APPS: '[{"name":"x"}]' }),
      /AZURE_APP_PRE_AUTHORIZED_APPS entry 0 must have a string "name" and "clientId"/,
    );
  });

  it('no variable is both read and ignored, nor read twice', () => {
    const seen = new Map<string, string>();
    const note = (env: string, by: string): void => {
      const before = seen.get(env);
      // The deliberate exceptions: the discovery URL is derived from the issuer, or (workload identity) from the
      // tenant, when it is not given.
      const derived =
        (env === 'AZURE_OPENID_CONFIG_ISSUER' || env === 'AZURE_TENANT_ID') && by === 'AZURE_APP_WELL_KNOWN_URL';
      assert.ok(before === undefined || before === by || derived, `${env} is read by ${before ?? ''} and ${by}`);
      if (derived) return;
      seen.set(env, by);
    };
    for (const s of allSettings) {
      note(s.env, s.env);
      for (const a of s.aliases ?? []) for (const e of isComposite(a) ? a.envs : [a.env]) note(e, s.env);
    }
    for (const i of ignoredVariables) assert.ok(!seen.has(i.env), `${i.env} is both read and ignored`);
  });
});
