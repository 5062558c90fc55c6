/**
 * The demo's upstream app: a tiny "Who am I" site behind vestibule. It shows what an app receives from the
 * sidecar — the user's Entra access token as `Authorization: Bearer` — and nothing else: no login code, no
 * cookies of its own. node:http only, so the demo reads like something any stack can do.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, type JWTPayload } from 'jose';
import { escapeHtml } from '../src/errors/escape-html.js';

/** What the app made of the Authorization header. */
export type BearerClaims =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly problem: string }
  | { readonly kind: 'claims'; readonly claims: JWTPayload };

/**
 * Decodes, WITHOUT verifying, the JWT of an `Authorization: Bearer` header. Fine for a demo page that only
 * displays claims; an app that makes decisions must verify signature, issuer, audience and expiry itself.
 */
export function bearerClaims(authorization: string | undefined): BearerClaims {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'none' };
  const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!m?.[1]) return { kind: 'invalid', problem: 'the Authorization header is not "Bearer <token>"' };
  try {
    return { kind: 'claims', claims: decodeJwt(m[1]) };
  } catch (err) {
    return { kind: 'invalid', problem: `the bearer token is not a JWT (${(err as Error).message})` };
  }
}

const SHOWN = ['name', 'preferred_username', 'NAVident', 'oid', 'groups', 'aud', 'scp', 'exp'] as const;

function claimCell(key: string, value: unknown, nowMs: number): string {
  if (value === undefined) return '<span class="missing">not in token</span>';
  if (Array.isArray(value)) {
    return value.length === 0
      ? '<span class="missing">none</span>'
      : value.map((v) => escapeHtml(String(v))).join('<br>');
  }
  if (key === 'exp' && typeof value === 'number') {
    const minutes = Math.round((value * 1000 - nowMs) / 60_000);
    const when = minutes >= 0 ? `in ${minutes} min` : `${-minutes} min ago`;
    return `${escapeHtml(new Date(value * 1000).toISOString())} <span class="note">(${when})</span>`;
  }
  return escapeHtml(typeof value === 'string' ? value : JSON.stringify(value));
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0;line-height:1.5}
main{max-width:46rem;margin:3rem auto;background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{margin:0 0 .5rem;font-size:1.6rem}
p.lead{margin:0 0 1.5rem;font-size:1.1rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid #e1e4e8}
th{width:11rem;font-weight:600;color:#3d4451;font-family:ui-monospace,monospace;font-size:.9rem}
td{font-family:ui-monospace,monospace;font-size:.9rem;word-break:break-all}
.missing,.note{color:#6a737d;font-family:system-ui,sans-serif}
.actions a{display:inline-block;padding:.55rem 1.2rem;border-radius:4px;background:#0067b8;color:#fff;text-decoration:none;font-weight:600}
.actions a.secondary{background:#fff;color:#0067b8;border:1px solid #0067b8}
.warning{background:#fff8e1;border-left:4px solid #f2b600;padding:.6rem .9rem;font-size:.9rem}
details{margin-top:1.5rem}summary{cursor:pointer;font-weight:600}
pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.85rem}
footer{margin-top:1.5rem;font-size:.85rem;color:#6a737d}`;

/** The whole "Who am I" page for a request to `path` carrying `bearer`. */
/**
 * The query parameter the logout link asks vestibule to come back with: after `/oauth2/logout` (here and at
 * Entra ID) and its callback, the landing page says so instead of looking like a first visit.
 */
export const LOGGED_OUT = 'logged_out';

export function renderWhoAmI(bearer: BearerClaims, path: string, nowMs: number, loggedOut = false): string {
  let body: string;
  if (bearer.kind === 'claims') {
    const c = bearer.claims as Record<string, unknown>;
    const rows = SHOWN.map((k) => `<tr><th>${k}</th><td>${claimCell(k, c[k], nowMs)}</td></tr>`).join('\n');
    const text = (v: unknown, fallback: string): string => escapeHtml(typeof v === 'string' ? v : fallback);
    body = `<p class="lead">Logged in as <strong id="user-name">${text(c.name, '(no name)')}</strong>
(<span id="nav-ident">${text(c.NAVident, 'no NAVident')}</span>)</p>
<p class="actions"><a href="/oauth2/logout?redirect=${encodeURIComponent(`/?${LOGGED_OUT}=1`)}">Log out</a></p>
<table>${rows}</table>
<p class="warning">This page only <strong>decodes</strong> the access token that vestibule forwarded as
<code>Authorization: Bearer</code>; it does not verify it. A real app must verify the signature, issuer,
audience and expiry before trusting any claim.</p>
<details><summary>All claims</summary><pre>${escapeHtml(JSON.stringify(c, null, 2))}</pre></details>`;
  } else {
    const problem = bearer.kind === 'invalid' ? `<p class="warning">${escapeHtml(bearer.problem)}</p>` : '';
    const status = loggedOut ? 'You are logged out here and at Entra ID' : 'Not logged in';
    body = `<p class="lead" id="status">${status}</p>${problem}
<p>No <code>Authorization</code> header reached the app: this browser has no vestibule session.</p>
<p class="actions"><a href="/oauth2/login?redirect=${encodeURIComponent(path)}">Log in</a></p>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Who am I — vestibule demo</title><style>${STYLE}</style></head>
<body><main><h1>Who am I</h1>
${body}
<footer>Demo app behind vestibule · you asked for <code>${escapeHtml(path)}</code> ·
<a href="/api/me">/api/me</a> returns the same claims as JSON</footer>
</main></body></html>`;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    // The page is personal: never cached, never framed, no script at all.
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://demo.invalid');
  const path = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    return;
  }
  const bearer = bearerClaims(req.headers.authorization);
  if (path === '/api/me') {
    if (bearer.kind === 'claims') send(res, 200, 'application/json', JSON.stringify(bearer.claims));
    else send(res, 401, 'application/json', JSON.stringify({ error: 'not logged in' }));
    return;
  }
  if (path === '/favicon.ico') {
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }
  send(res, 200, 'text/html; charset=utf-8', renderWhoAmI(bearer, path, Date.now(), url.searchParams.has(LOGGED_OUT)));
}

/** A running demo app. */
export interface DemoApp {
  /** `http://HOST:PORT`, what vestibule's VESTIBULE_UPSTREAM points at. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the demo app on `host:port` (default 127.0.0.1 and a free port). */
export async function startDemoApp(o: { host?: string; port?: number } = {}): Promise<DemoApp> {
  const host = o.host ?? '127.0.0.1';
  const server = createServer(handle);
  server.listen(o.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
