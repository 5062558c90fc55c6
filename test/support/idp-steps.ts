import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildTokenApi } from '../../src/token-api/server.js';
import type { Harness } from './harness.js';
import { boundedGet } from './bounded-get.js';

/** The IdP client's own timeout (src/oidc/provider.ts, 10 s) plus slack for a busy machine. */
export const IDP_BOUND_MS = 14_000;

/** The Authorization header the app saw for a proxied request with `cookie`. */
export async function bearer(h: Pick<Harness, 'ingress'>, cookie: string, limitMs = 3000): Promise<string | undefined> {
  const a = await boundedGet(`${h.ingress}/echo/idp`, { cookie }, limitMs);
  return (JSON.parse(a.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

/** The harness' token API (built by buildApps but not listening there) on a free loopback port. */
export async function tokenApi(h: Harness): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildTokenApi({ provider: h.provider, clientId: h.clientId, logger: pino({ level: 'silent' }) });
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/** A client-credentials token request for the app itself (always allowed by the mock), never from the cache. */
export async function clientCredentials(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity_provider: 'entra_id', target: 'test:team:app', skip_cache: true }),
    signal: AbortSignal.timeout(IDP_BOUND_MS),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
