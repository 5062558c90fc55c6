import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { parseDuration } from './duration.js';

const JWK = JSON.stringify({ kty: 'RSA', kid: 'k1', n: 'x', e: 'AQAB', d: 'secret-d-value' });
const base = {
  AZURE_APP_CLIENT_ID: 'e89006c5-7193-4ca3-8e26-d0990d9d981f',
  AZURE_APP_WELL_KNOWN_URL:
    'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0/.well-known/openid-configuration',
  AZURE_APP_JWK: JWK,
  VESTIBULE_INGRESS: 'https://app.example.com',
  VESTIBULE_DEVELOPMENT_MODE: 'true',
};

function problems(env: Record<string, string>): { variable: string; problem: string; example: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig()', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    assert.deepEqual(c.scopes, ['openid', 'offline_access', 'api://e89006c5-7193-4ca3-8e26-d0990d9d981f/.default']);
    assert.deepEqual(c.bind, { host: '0.0.0.0', port: 7564 });
    assert.deepEqual(c.adminBind, { host: '0.0.0.0', port: 7565 });
    assert.deepEqual(c.tokenBind, { host: '127.0.0.1', port: 7164 });
    assert.equal(c.sessionMaxLifetimeMs, 10 * 3600_000);
    assert.equal(c.autoLogin, false);
    assert.equal(c.upstream, 'http://127.0.0.1:8080');
    assert.equal(c.store.kind, 'memory');
    assert.equal(c.ephemeralKey, true);
    assert.equal(c.clientAuth.method, 'private_key_jwt');
    assert.equal(c.assertionAudience, 'issuer');
    assert.equal(c.allowInsecureIdp, false);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.ingresses));
  });

  it('VESTIBULE_SEND_TIMEOUT: 60 s by default, its own from VESTIBULE_UPSTREAM_TIMEOUT, and at least 5 s', () => {
    assert.equal(loadConfig(base).sendTimeoutMs, 60_000);
    const c = loadConfig({ ...base, VESTIBULE_SEND_TIMEOUT: '90s', VESTIBULE_UPSTREAM_TIMEOUT: '2s' });
    assert.deepEqual([c.sendTimeoutMs, c.upstreamTimeoutMs], [90_000, 2_000]);
    // A send timeout of a second would cut any slow reader: refused, as is what is not a duration.
    for (const raw of ['1s', 'soon', '-5s']) {
      const found = problems({ ...base, VESTIBULE_SEND_TIMEOUT: raw }).filter(
        (p) => p.variable === 'VESTIBULE_SEND_TIMEOUT',
      );
      assert.equal(found.length, 1, raw);
      assert.equal(found[0]?.example, '120s', 'with a valid example');
    }
  });

  it('reports every problem at once, each naming the variable with a valid example, and never echoes secrets', () => {
    const ps = problems({
      AZURE_APP_WELL_KNOWN_URL: 'http://idp.example.com/.well-known/openid-configuration',
      AZURE_APP_CLIENT_SECRET: '',
      VESTIBULE_INGRESS: 'ftp://x',
      VESTIBULE_REDIS_URL: 'http://secret-password@redis',
      VESTIBULE_SESSION_MAX_LIFETIME: '10',
      VESTIBULE_BIND_ADDRESS: 'nonsense',
    });
    const vars = ps.map((p) => p.variable);
    for (const v of [
      'AZURE_APP_CLIENT_ID',
      'AZURE_APP_WELL_KNOWN_URL',
      'VESTIBULE_INGRESS',
      'VESTIBULE_REDIS_URL',
      'VESTIBULE_SESSION_MAX_LIFETIME',
      'VESTIBULE_BIND_ADDRESS',
    ]) {
      assert.ok(vars.includes(v), `${v} reported`);
    }
    for (const p of ps) assert.ok(p.example.length > 0);
    const message = new ConfigError(ps).message;
    assert.match(message, /AZURE_APP_WELL_KNOWN_URL must use https:\/\/.*Example: AZURE_APP_WELL_KNOWN_URL=https:\/\//);
    assert.doesNotMatch(message, /secret-password/);
  });

  it('accepts an http identity provider only on loopback', () => {
    const c = loadConfig({
      ...base,
      AZURE_APP_WELL_KNOWN_URL: 'http://127.0.0.1:4000/t/v2.0/.well-known/openid-configuration',
    });
    assert.equal(c.allowInsecureIdp, true);
    assert.equal(
      problems({ ...base, AZURE_APP_WELL_KNOWN_URL: 'http://10.0.0.1/.well-known/openid-configuration' })[0]?.variable,
      'AZURE_APP_WELL_KNOWN_URL',
    );
    // The same loopback test as the token API's bind address: the URL check and allowInsecureIdp agree.
    for (const host of ['127.0.0.2', '[::1]']) {
      assert.equal(
        loadConfig({ ...base, AZURE_APP_WELL_KNOWN_URL: `http://${host}:4000/t/v2.0/.well-known/openid-configuration` })
          .allowInsecureIdp,
        true,
        host,
      );
    }
  });

  it('requires a JWK or a client secret, and rejects a public JWK without printing it', () => {
    const { AZURE_APP_JWK: _omit, ...noAuth } = base;
    assert.equal(problems(noAuth)[0]?.variable, 'AZURE_APP_JWK');
    const pub = problems({ ...base, AZURE_APP_JWK: JSON.stringify({ kty: 'RSA', kid: 'k', n: 'x', e: 'AQAB' }) });
    assert.match(pub[0]?.problem ?? '', /private key/);
    const secret = loadConfig({ ...noAuth, AZURE_APP_CLIENT_SECRET: 's3cret' });
    assert.deepEqual(secret.clientAuth, { method: 'client_secret_post', secret: 's3cret' });
  });

  it('refuses the in-memory store and a per-process key unless development mode is asked for by name', () => {
    const { VESTIBULE_DEVELOPMENT_MODE: _dev, ...production } = base;
    const found = problems(production);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.variable, 'VESTIBULE_REDIS_URL');
    assert.match(found[0].problem, /VESTIBULE_DEVELOPMENT_MODE=true/);
    assert.match(found[0].example, /^rediss:\/\//);
    assert.equal(problems({ ...production, VESTIBULE_DEVELOPMENT_MODE: 'false' })[0]?.variable, 'VESTIBULE_REDIS_URL');
    const dev = loadConfig(base);
    assert.equal(dev.developmentMode, true);
    assert.equal(dev.store.kind, 'memory');
    assert.equal(dev.ephemeralKey, true);
  });

  it('requires a shared encryption key with Redis, of exactly 32 bytes', () => {
    assert.equal(problems({ ...base, VESTIBULE_REDIS_URL: 'redis://r:6379' })[0]?.variable, 'VESTIBULE_ENCRYPTION_KEY');
    assert.equal(
      problems({ ...base, VESTIBULE_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })[0]?.variable,
      'VESTIBULE_ENCRYPTION_KEY',
    );
    const c = loadConfig({
      ...base,
      VESTIBULE_REDIS_URL: 'rediss://r:6380',
      VESTIBULE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.equal(c.store.kind, 'redis');
    assert.equal(c.ephemeralKey, false);
  });

  it('says what an unusable encryption key decodes to, never the key, and shows how to make one', () => {
    const key = (raw: string, env = 'VESTIBULE_ENCRYPTION_KEY'): string => {
      const p = problems({ ...base, [env]: raw }).find((x) => x.variable === env);
      assert.ok(p, `${env}=… is refused`);
      assert.ok(!p.problem.includes(raw) && !p.example.includes(raw), 'the received key is not echoed');
      assert.ok(p.example.endsWith('$(openssl rand -base64 32)'), 'the example is a command, not a usable key');
      return p.problem;
    };
    assert.equal(
      key(Buffer.alloc(10, 7).toString('base64')),
      'decodes to 10 bytes; needs exactly 32; make one with: openssl rand -base64 32',
    );
    assert.match(key('a'.repeat(64)), /decodes to 48 bytes; needs exactly 32 \(it looks like hex/);
    assert.match(key('not a key!'), /^is not base64 \(10 characters/);
    assert.match(key(Buffer.alloc(12, 1).toString('base64'), 'WONDERWALL_ENCRYPTION_KEY'), /decodes to 12 bytes/);
    const published = Buffer.from('q3p0Hb4m1lH6lcx1aEYQmJ4vX0wq3Qd5qk8m0m0bYt8=', 'base64');
    assert.equal(published.length, 32);
    assert.match(key(published.toString('base64')), /is the example key once printed in vestibule's documentation/);
    assert.match(key(published.toString('base64url')), /example key/, 'in URL-safe base64 as well');
    assert.match(
      problems({
        ...base,
        VESTIBULE_ENCRYPTION_KEY_PREVIOUS: `${Buffer.alloc(32, 2).toString('base64')},${published.toString('base64')}`,
      }).find((p) => p.variable === 'VESTIBULE_ENCRYPTION_KEY_PREVIOUS')?.problem ?? '',
      /^key 2 of 2 is the example key/,
    );
  });

  it('no docs page, --help text or setting prints a usable literal encryption key', async () => {
    const { helpText } = await import('./help.js');
    const { readFileSync } = await import('node:fs');
    const texts = { '--help': helpText(), 'docs/configuration.md': readFileSync('docs/configuration.md', 'utf8') };
    for (const [where, text] of Object.entries(texts)) {
      for (const candidate of text.match(/(?<![\w+/.:-])[\w+/-]{42,44}={0,2}(?![\w+/.=-])/g) ?? []) {
        // A random key mixes cases and digits; setting names and words do not.
        if (!/[a-z]/.test(candidate) || !/[A-Z]/.test(candidate) || !/\d/.test(candidate)) continue;
        assert.notEqual(Buffer.from(candidate, 'base64').length, 32, `${where} shows a 32-byte key: ${candidate}`);
      }
      assert.match(text, /VESTIBULE_ENCRYPTION_KEY=\$\(openssl rand -base64 32\)|`\$\(openssl rand -base64 32\)`/);
    }
  });

  it('parses several ingresses with paths; http only for localhost', () => {
    const c = loadConfig({
      ...base,
      VESTIBULE_INGRESS: 'https://a.example.com, https://b.example.com/app/ ,http://localhost:7564',
    });
    assert.deepEqual(
      c.ingresses.map((i) => [i.url, i.path, i.secure]),
      [
        ['https://a.example.com', '/', true],
        ['https://b.example.com/app', '/app', true],
        ['http://localhost:7564', '/', false],
      ],
    );
    assert.match(problems({ ...base, VESTIBULE_INGRESS: 'http://app.example.com' })[0]?.problem ?? '', /https/);
    assert.match(problems({ ...base, VESTIBULE_INGRESS: 'https://a.example.com?x=1' })[0]?.problem ?? '', /query/);
  });

  it('keeps the token API on loopback and the three listeners on different ports', () => {
    assert.equal(
      problems({ ...base, VESTIBULE_TOKEN_BIND_ADDRESS: '0.0.0.0:7164' })[0]?.variable,
      'VESTIBULE_TOKEN_BIND_ADDRESS',
    );
    assert.ok(problems({ ...base, VESTIBULE_ADMIN_BIND_ADDRESS: '0.0.0.0:7564' }).length > 0);
  });

  it('token API bind to a *.localhost name attack: a name the resolver may send off the machine is refused at start-up', () => {
    for (const host of ['foo.localhost', 'localhost.evil.example', 'app.localhost']) {
      assert.equal(
        problems({ ...base, VESTIBULE_TOKEN_BIND_ADDRESS: `${host}:7164` })[0]?.variable,
        'VESTIBULE_TOKEN_BIND_ADDRESS',
        host,
      );
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '[::1]', 'localhost']) {
      assert.doesNotThrow(() => loadConfig({ ...base, VESTIBULE_TOKEN_BIND_ADDRESS: `${host}:7164` }), host);
    }
  });

  it('validates globs and protected-path rules at start-up', () => {
    const c = loadConfig({
      ...base,
      VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**, /api/admin/** roles=admin|ops scopes=write',
    });
    assert.deepEqual(c.requireTokenPaths, [
      { pattern: '/api/**', roles: [], scopes: [], groups: [], callers: [], acrs: [] },
      { pattern: '/api/admin/**', roles: ['admin', 'ops'], scopes: ['write'], groups: [], callers: [], acrs: [] },
    ]);
    assert.equal(
      problems({ ...base, VESTIBULE_AUTO_LOGIN_IGNORE_PATHS: 'public/**' })[0]?.variable,
      'VESTIBULE_AUTO_LOGIN_IGNORE_PATHS',
    );
    assert.equal(
      problems({ ...base, VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/** groups=x' })[0]?.variable,
      'VESTIBULE_REQUIRE_TOKEN_PATHS',
    );
  });
});

describe('OTEL_EXPORTER_OTLP_HEADERS over gRPC', () => {
  const grpc = { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  // Each has one entry gRPC cannot send as metadata; "top-s3cret" must never be printed.
  const unsendable = [
    'x-ok=1,x-api-key=top-s3cret%0A', // a newline once decoded
    'x-ok=1,x-api-key=top-s3cret%C3%A9', // non-ASCII once decoded
    'x-ok=1,x-api-key=top-s3cret\u00e9', // non-ASCII as given
    'x-ok=1,Bearer top-s3cret=x', // a space in the key (an HTTP-style header)
    'x-ok=1,x-token-bin=top-s3cret', // -bin keys carry binary values, not text
  ];

  it('an entry gRPC cannot send is a config problem naming the variable and the entry, never the value', () => {
    for (const headers of unsendable) {
      const ps = problems({ ...grpc, OTEL_EXPORTER_OTLP_HEADERS: headers });
      const p = ps.find((x) => x.variable === 'OTEL_EXPORTER_OTLP_HEADERS');
      assert.ok(p, `${headers}: reported ${JSON.stringify(ps)}`);
      assert.match(p.problem, /entry 2 of 2 cannot be sent as gRPC metadata/, headers);
      assert.equal(p.example, 'x-api-key=make-one-at-the-collector');
      const message = new ConfigError(ps).message;
      assert.ok(!message.includes('top-s3cret'), `the value is not echoed: ${message}`);
      assert.match(message, /OTEL_EXPORTER_OTLP_HEADERS entry 2 of 2 .*Example: OTEL_EXPORTER_OTLP_HEADERS=/);
    }
  });

  it('over HTTP (http/protobuf, the default) only entries HTTP cannot send are refused; tracing off takes any', () => {
    const { OTEL_EXPORTER_OTLP_PROTOCOL: _p, ...http } = grpc;
    // gRPC refuses these, HTTP sends them.
    for (const headers of ['x-ok=1,x-token-bin=top-s3cret', 'x-ok=1,x-api-key=top-s3cret%C3%A9']) {
      assert.equal(loadConfig({ ...http, OTEL_EXPORTER_OTLP_HEADERS: headers }).otel.tracing, true, headers);
      assert.equal(
        loadConfig({ ...http, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_HEADERS: headers }).otel
          .tracing,
        true,
      );
    }
    // A header line, as a base64 credential ends: key "Authorization: Basic …", value "=". And a newline.
    for (const headers of ['x-ok=1,Authorization: Basic dG9wLXMzY3JldA==', 'x-ok=1,x-api-key=top-s3cret%0A']) {
      const ps = problems({ ...http, OTEL_EXPORTER_OTLP_HEADERS: headers });
      const p = ps.find((x) => x.variable === 'OTEL_EXPORTER_OTLP_HEADERS');
      assert.ok(p, `${headers}: reported ${JSON.stringify(ps)}`);
      assert.match(p.problem, /entry 2 of 2 cannot be sent as an HTTP header/);
      const message = new ConfigError(ps).message;
      assert.ok(!/top-s3cret|dG9wLXMzY3JldA/.test(message), `the value is not echoed: ${message}`);
    }
    for (const headers of [...unsendable, 'x-ok=1,x-api-key=top-s3cret%0A']) {
      const off = loadConfig({ ...grpc, OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_HEADERS: headers });
      assert.equal(off.otel.tracing, false);
    }
  });

  it('OTEL_EXPORTER_OTLP_TRACES_HEADERS, which the exporter reads itself, is checked by the same rules', () => {
    const ps = problems({ ...grpc, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=top-s3cret%0A' });
    const p = ps.find((x) => x.variable === 'OTEL_EXPORTER_OTLP_TRACES_HEADERS');
    assert.ok(p, `reported ${JSON.stringify(ps)}`);
    assert.match(p.problem, /entry 1 of 1 cannot be sent as gRPC metadata/);
    assert.ok(!new ConfigError(ps).message.includes('top-s3cret'));
    // Positive control: a sendable one loads.
    loadConfig({ ...grpc, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=top-s3cret' });
    // The exporter cuts an entry at ';' and decodes keys too: what it would send is checked, not only vestibule's view.
    const { OTEL_EXPORTER_OTLP_PROTOCOL: _p, ...http } = grpc;
    for (const [variable, headers] of [
      ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'x-api-key=top-s3cret%0A;%'],
      ['OTEL_EXPORTER_OTLP_HEADERS', 'x-ok=1,k%5Dtop-s3cret=1'],
    ] as const) {
      const found = problems({ ...http, [variable]: headers });
      assert.ok(
        found.some((x) => x.variable === variable),
        `${variable}=${headers}: reported ${JSON.stringify(found)}`,
      );
      assert.ok(!new ConfigError(found).message.includes('top-s3cret'));
    }
  });

  it('with tracing off OTEL_EXPORTER_OTLP_TRACES_HEADERS is not read at all (the exporter never is)', () => {
    const off = loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'not a pair' });
    assert.equal(off.otel.tracing, false);
    // Positive control: with tracing on, the same value is a problem.
    assert.ok(problems({ ...grpc, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'not a pair' }).length > 0);
  });

  it('valid metadata passes over gRPC (%-encoded values, keys in any case)', () => {
    const c = loadConfig({
      ...grpc,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=top%20s3cret%3D%3D,X-Tenant.Id_1=team-a,empty=',
    });
    assert.equal(c.otel.protocol, 'grpc');
    assert.deepEqual(c.otel.headers, { 'x-api-key': 'top%20s3cret%3D%3D', 'X-Tenant.Id_1': 'team-a', empty: '' });
  });
});

describe('parseDuration()', () => {
  it('a malformed OTEL_EXPORTER_OTLP_HEADERS entry is named by position, never echoed (it holds an API key)', () => {
    for (const headers of ['Authorization: Bearer sk-otlp-1234567890', 'x-ok=1,=sk-otlp-1234567890']) {
      const ps = problems({
        ...base,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: headers,
      });
      const p = ps.find((x) => x.variable === 'OTEL_EXPORTER_OTLP_HEADERS');
      assert.ok(p, `reported: ${JSON.stringify(ps)}`);
      const message = new ConfigError(ps).message;
      assert.ok(!message.includes('sk-otlp-1234567890'), `the value is not echoed: ${message}`);
      assert.match(p.problem, /entry \d+/);
    }
  });

  it('reads Go-style durations and rejects bare numbers', () => {
    assert.equal(parseDuration('10h'), 36_000_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('30'), null);
    assert.equal(parseDuration('10x'), null);
    assert.equal(parseDuration(''), null);
  });
});
