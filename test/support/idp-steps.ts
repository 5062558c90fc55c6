import type { FastifyInstance } from 'fastify';
import type { Harness } from './harness.js';
import { boundedGet } from './bounded-get.js';

/** The IdP client's own timeout (src/oidc/provider.ts, 10 s) plus slack for a busy machine. */
export const IDP_BOUND_MS = 14_000;

/** The Authorization header the app saw for a proxied request with `cookie`. */
export async function bearer(h: Pick<Harness, 'ingress'>, cookie: string, limitMs = 3000): Promise<string | undefined> {
  const a = await boundedGet(`${h.ingress}/echo/idp`, { cookie }, limitMs);
  return (JSON.parse(a.body) as { headers: Record<string, string | undefined> }).headers.authorization;
}

/** The harness' token API, listening on a free loopback port, and its base URL. */
export function tokenApi(h: Pick<Harness, 'tokenApi'>): { app: FastifyInstance; url: string } {
  const address = h.tokenApi.server.address();
  if (address === null || typeof address === 'string') throw new Error('the harness token API is not listening');
  return { app: h.tokenApi, url: `http://${address.address}:${address.port}` };
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
