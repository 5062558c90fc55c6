/**
 * An app behind vestibule that asks for a step-up the way a CAE-aware API does: it validates the bearer token
 * (signature and issuer, against the mock Entra ID's keys) and answers `401` with
 * `WWW-Authenticate: Bearer error="insufficient_claims", claims="<base64>"` until the token's `acrs` holds `c1`.
 *
 * - `/step-up/**` and `/api/step-up`: the claims challenge until `acrs` has `c1`, then 200 with the token's
 *   `acrs` and `xms_cc` (an HTML page for a browser, else JSON);
 * - `/always/**`: the challenge whatever the token holds (an app a fresh login can never satisfy);
 * - `/odd-claims`: `insufficient_claims` whose claims are not a claims request vestibule would send;
 * - `/invalid-token`: a plain `401` with `error="invalid_token"` (no challenge);
 * - anything else: 200 HTML, the token's user.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** The claims request the app challenges with (Microsoft's example for authentication context c1). */
export const C1_CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';

export interface ChallengeApp {
  readonly url: string;
  /** Requests that reached the app with a valid token, by path: the token's `acrs` each time. */
  readonly seen: { path: string; acrs: unknown; xmsCc: unknown }[];
  /** Trusts the tokens of this identity provider (started after the app, as vestibule needs the app's URL). */
  trust(wellKnownUrl: string): Promise<void>;
  close(): Promise<void>;
}

function challenge(res: ServerResponse, claimsJson: string): void {
  const claims = Buffer.from(claimsJson).toString('base64');
  res.writeHead(401, {
    'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${claims}"`,
    'content-type': 'application/json',
  });
  res.end(JSON.stringify({ error: 'insufficient_claims' }));
}

function page(res: ServerResponse, title: string, rows: Record<string, string>): void {
  const cells = Object.entries(rows)
    .map(([k, v]) => `<p id="${k}">${v.replace(/[<&"]/g, '')}</p>`)
    .join('');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>${title}</title><h1 id="status">${title}</h1>${cells}`);
}

export async function startChallengeApp(): Promise<ChallengeApp> {
  let idp: { issuer: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;
  const seen: ChallengeApp['seen'] = [];

  async function tokenOf(req: IncomingMessage): Promise<JWTPayload | undefined> {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m?.[1] || !idp) return undefined;
    try {
      return (await jwtVerify(m[1], idp.keys, { issuer: idp.issuer })).payload;
    } catch {
      return undefined;
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://app').pathname;
      const token = await tokenOf(req);
      if (path === '/invalid-token' || (!token && path !== '/')) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' });
        res.end('no valid token\n');
        return;
      }
      if (token) seen.push({ path, acrs: token.acrs, xmsCc: token.xms_cc });
      const acrs = Array.isArray(token?.acrs) ? (token.acrs as unknown[]) : [];
      if (path === '/odd-claims') {
        challenge(res, '{"access_token":{"groups":{"essential":true}}}');
        return;
      }
      if (path.startsWith('/always/')) {
        challenge(res, C1_CLAIMS);
        return;
      }
      if (path.startsWith('/step-up/') || path === '/api/step-up') {
        if (!acrs.includes('c1')) {
          challenge(res, C1_CLAIMS);
          return;
        }
        const body = { acrs: acrs.join(','), xms_cc: Array.isArray(token?.xms_cc) ? token.xms_cc.join(',') : '' };
        if ((req.headers.accept ?? '').includes('text/html')) {
          page(res, 'Stepped up', body);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
      const user = typeof token?.preferred_username === 'string' ? token.preferred_username : '';
      page(res, token ? 'Signed in' : 'Not signed in', { user });
    })().catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    trust: async (wellKnownUrl) => {
      const discovery = (await (await fetch(wellKnownUrl)).json()) as { issuer: string; jwks_uri: string };
      idp = { issuer: discovery.issuer, keys: createRemoteJWKSet(new URL(discovery.jwks_uri)) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
