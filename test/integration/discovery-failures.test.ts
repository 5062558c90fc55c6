import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { createLoggers } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { start } from '../../src/start.js';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { freePort } from '../support/free-port.js';

const TENANT = 'b6a1f3c0-2d4e-4f5a-8b9c-0d1e2f3a4b5c';
const WELL_KNOWN = `/${TENANT}/v2.0/.well-known/openid-configuration`;

/**
 * A real identity-provider stand-in: `/404/…` answers 404, `/html/…` a 200 HTML page, `/flaky/…` 500 for its
 * first two requests and then a real discovery document (with its own JWKS), `/mt/…` a multi-tenant
 * document (issuer with `{tenantid}`).
 */
async function startIdp(signingJwk: object): Promise<{ server: Server; base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  let base = '';
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const kind = url.split('/')[1] ?? '';
    hits.set(kind, (hits.get(kind) ?? 0) + 1);
    if (kind === '404') {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    } else if (kind === 'html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>Sign in</body></html>');
    } else if (kind === 'mt') {
      const issuer = `${base}/mt/{tenantid}/v2.0`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${base}/mt/authorize`,
          token_endpoint: `${base}/mt/token`,
          jwks_uri: `${base}/mt/keys`,
          response_types_supported: ['code'],
        }),
      );
    } else if (kind === 'flaky' && url.endsWith('/keys')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [signingJwk] }));
    } else if (kind === 'flaky' && (hits.get(kind) ?? 0) <= 2) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('oops');
    } else if (kind === 'flaky') {
      const issuer = `${base}/flaky/${TENANT}/v2.0`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          end_session_endpoint: `${issuer}/logout`,
          jwks_uri: `${base}/flaky/${TENANT}/keys`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        }),
      );
    } else {
      res.writeHead(418).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, hits };
}

describe('start-up with a wrong or unreachable AZURE_APP_WELL_KNOWN_URL names the cause', () => {
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let clientJwk: string;
  let secretD: string;
  before(async () => {
    const { privateJwk, publicJwk } = await generateClientJwk();
    clientJwk = JSON.stringify(privateJwk);
    secretD = String((privateJwk as { d?: string }).d);
    idp = await startIdp(publicJwk);
  });
  after(() => new Promise<void>((r) => idp.server.close(() => r())));

  const env = (wellKnownUrl: string): Record<string, string> => ({
    AZURE_APP_CLIENT_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
    AZURE_APP_WELL_KNOWN_URL: wellKnownUrl,
    AZURE_APP_JWK: clientJwk,
    VESTIBULE_INGRESS: 'http://localhost:7564',
    VESTIBULE_UPSTREAM: 'http://127.0.0.1:9',
    VESTIBULE_BIND_ADDRESS: '127.0.0.1:0',
    VESTIBULE_ADMIN_BIND_ADDRESS: '127.0.0.1:0',
    VESTIBULE_TOKEN_BIND_ADDRESS: '127.0.0.1:0',
    VESTIBULE_DEVELOPMENT_MODE: 'true',
  });

  /** src/main.ts as a real process; it must exit on its own (killed after 30 s, well under the 60 s retry). */
  async function runMain(
    wellKnownUrl: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, ...env(wellKnownUrl) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, stdout, stderr, ms: Date.now() - t0 };
  }

  it('a 404 stops start-up at once with the status and the tenant-id hint, without retrying', async () => {
    const r = await runMain(`${idp.base}/404${WELL_KNOWN}`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 20_000, `exited after ${r.ms} ms`);
    assert.match(r.stderr, /answered HTTP 404/);
    assert.match(
      r.stderr,
      /check the tenant id in AZURE_APP_WELL_KNOWN_URL: .*\/<tenant>\/v2\.0\/\.well-known\/openid-configuration/,
    );
    assert.doesNotMatch(r.stdout, /retrying/);
    assert.equal(idp.hits.get('404'), 1, 'one request: a 404 is not retried');
    assert.ok(!(r.stdout + r.stderr).includes(secretD), 'the client key never appears');
  });

  it('an HTML page instead of JSON stops start-up at once naming the content type', async () => {
    const r = await runMain(`${idp.base}/html${WELL_KNOWN}`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 20_000, `exited after ${r.ms} ms`);
    assert.match(
      r.stderr,
      /answered HTTP 200 with content type text\/html; charset=utf-8, not a JSON discovery document/,
    );
    assert.doesNotMatch(r.stdout, /retrying/);
    assert.equal(idp.hits.get('html'), 1);
    assert.ok(!(r.stdout + r.stderr).includes(secretD));
  });

  async function startWith(wellKnownUrl: string, retryMs: number) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const { log } = createLoggers({ level: 'debug', destination: sink });
    const config = loadConfig(env(wellKnownUrl));
    const t0 = Date.now();
    const result = await start(config, {
      logger: log,
      metrics: new Metrics({ processMetrics: false }),
      discoveryRetryMs: retryMs,
    }).then(
      (v) => ({ ok: true as const, v }),
      (err: unknown) => ({ ok: false as const, err: err as Error }),
    );
    const warnings = lines
      .map((l) => JSON.parse(l) as { level: unknown; msg: string })
      .filter((l) => l.level === 'warn' || l.level === 40);
    return { result, lines, warnings, ms: Date.now() - t0 };
  }

  it('a 500 is retried, said once with its cause and the retry window, and start-up succeeds when it heals', async () => {
    const r = await startWith(`${idp.base}/flaky${WELL_KNOWN}`, 20_000);
    assert.ok(r.result.ok, r.result.ok ? '' : r.result.err.message);
    await r.result.v.stop(1000);
    assert.equal(idp.hits.get('flaky'), 4, 'two 500s, the document, the keys');
    assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
    assert.match(r.warnings[0]?.msg ?? '', /answered HTTP 500.*; retrying for up to 20 s/);
    assert.ok(!r.lines.join('\n').includes(secretD));
  });

  it('a multi-tenant document without the multi-tenant setting stops start-up at once, unretried', async () => {
    const r = await startWith(`${idp.base}/mt${WELL_KNOWN}`, 20_000);
    assert.ok(!r.result.ok, 'start-up fails');
    assert.match(r.result.err.message, /multi-tenant/);
    assert.ok(r.ms < 5_000, `failed after ${r.ms} ms`);
    assert.equal(idp.hits.get('mt'), 1, 'one request: a setting is not retried');
    assert.equal(r.warnings.length, 0, JSON.stringify(r.warnings));
  });

  it('a closed port is retried until the (configurable) deadline, then fails naming ECONNREFUSED', async () => {
    const port = await freePort();
    const r = await startWith(`http://127.0.0.1:${port}${WELL_KNOWN}`, 2_500);
    assert.ok(!r.result.ok, 'start-up fails');
    assert.match(
      r.result.err.message,
      /could not be reached \(ECONNREFUSED\) \(gave up after [2-9] attempts over \d+ s\)/,
    );
    assert.ok(r.ms >= 2_000 && r.ms < 15_000, `gave up after ${r.ms} ms`);
    assert.equal(r.warnings.length, 1, 'the same cause is warned once, not per attempt');
    assert.match(r.warnings[0]?.msg ?? '', /\(ECONNREFUSED\); retrying for up to 2\.5 s/);
  });
});
