import type { JWK } from 'jose';
import { compilePathGlobs } from '../paths/path-match.js';
import { parseDuration } from './duration.js';

/** A parse result: the value, or a description of what is wrong with the text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** One environment variable: its documentation and its parser, so --help, docs and validation share one source. */
export interface Setting<T> {
  readonly env: string;
  readonly group: 'Identity provider' | 'Routing' | 'Sessions' | 'Listeners' | 'Operations';
  readonly description: string;
  /** The default as text (what --help shows); absent means "unset". */
  readonly default?: string;
  readonly example: string;
  /** Secrets are never echoed back, not even in error messages. */
  readonly secret?: boolean;
  readonly parse: (raw: string) => Parsed<T>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

export const text = (raw: string): Parsed<string> => (raw.trim() === '' ? bad('must not be empty') : ok(raw.trim()));

export const bool = (raw: string): Parsed<boolean> => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return ok(true);
  if (['false', '0', 'no', 'off'].includes(v)) return ok(false);
  return bad('must be true or false');
};

export const duration =
  (min: number, max: number) =>
  (raw: string): Parsed<number> => {
    const ms = parseDuration(raw);
    if (ms === null) return bad('is not a duration like 30s, 15m or 10h');
    if (ms < min || ms > max) return bad(`must be between ${min / 1000}s and ${max / 1000}s`);
    return ok(ms);
  };

export const list = (raw: string): Parsed<string[]> =>
  ok(
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A protected path and what its token must carry. */
export interface TokenRule {
  readonly pattern: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
}

const globProblem = (pattern: string): string | undefined => {
  try {
    compilePathGlobs([pattern]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

export const globs = (raw: string): Parsed<string[]> => {
  const patterns = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of patterns) {
    const problem = globProblem(p);
    if (problem) return bad(`has an invalid pattern ${JSON.stringify(p)}: ${problem}`);
  }
  return ok(patterns);
};

export const tokenRules = (raw: string): Parsed<TokenRule[]> => {
  const rules: TokenRule[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [pattern = '', ...options] = entry.split(/\s+/);
    const problem = globProblem(pattern);
    if (problem) return bad(`has an invalid pattern ${JSON.stringify(pattern)}: ${problem}`);
    let roles: string[] = [];
    let scopes: string[] = [];
    for (const opt of options) {
      const m = /^(roles|scopes)=([^|\s]+(?:\|[^|\s]+)*)$/.exec(opt);
      if (!m) return bad(`has an invalid option ${JSON.stringify(opt)} (expected roles=a|b or scopes=c|d)`);
      if (m[1] === 'roles') roles = (m[2] ?? '').split('|');
      else scopes = (m[2] ?? '').split('|');
    }
    rules.push({ pattern, roles, scopes });
  }
  return ok(rules);
};

export const hostPorts = (raw: string): Parsed<Address[]> => {
  const out: Address[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const a = address(part);
    if (!a.ok) return bad(`entry ${JSON.stringify(part)} must be host:port`);
    out.push(a.value);
  }
  return out.length > 0 ? ok(out) : bad('must list at least one host:port');
};

export const address = (raw: string): Parsed<Address> => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return bad('must be host:port');
  const host = m[1] === '' || m[1] === undefined ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
  return ok({ host, port });
};

export const settings = {
  clientId: {
    env: 'AZURE_APP_CLIENT_ID',
    group: 'Identity provider',
    description: 'Client id of the Entra ID app registration (injected by NAIS).',
    example: 'e89006c5-7193-4ca3-8e26-d0990d9d981f',
    parse: (raw) => (raw.trim() === '' ? bad('must not be empty') : ok(raw.trim())),
  } satisfies Setting<string>,
  wellKnownUrl: {
    env: 'AZURE_APP_WELL_KNOWN_URL',
    group: 'Identity provider',
    description:
      'OpenID Connect discovery document of the tenant. https is required; http only for a loopback host (local development and tests).',
    example:
      'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0/.well-known/openid-configuration',
    parse: (raw) => {
      let u: URL;
      try {
        u = new URL(raw.trim());
      } catch {
        return bad('is not an absolute URL');
      }
      if (u.protocol === 'https:') return ok(u.href);
      if (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) return ok(u.href);
      return bad('must use https:// (http:// is accepted only for localhost or 127.0.0.1)');
    },
  } satisfies Setting<string>,
  jwk: {
    env: 'AZURE_APP_JWK',
    group: 'Identity provider',
    description:
      'Private JWK (JSON) used for private_key_jwt client authentication. Needs kid; alg defaults to RS256. Takes precedence over AZURE_APP_CLIENT_SECRET.',
    example:
      '{"kty":"RSA","kid":"…","alg":"RS256","n":"…","e":"AQAB","d":"…","p":"…","q":"…","dp":"…","dq":"…","qi":"…"}',
    secret: true,
    parse: (raw) => {
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        return bad('is not valid JSON');
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('must be a JSON object (one JWK)');
      const jwk = v as Record<string, unknown>;
      if (typeof jwk.kty !== 'string') return bad('has no "kty"');
      if (typeof jwk.kid !== 'string' || jwk.kid === '') return bad('has no "kid" (Entra needs it in the header)');
      if (typeof jwk.d !== 'string') return bad('is a public key; a private key (with "d") is required');
      const alg = typeof jwk.alg === 'string' ? jwk.alg : 'RS256';
      if (!/^(RS|PS|ES)(256|384|512)$/.test(alg)) return bad(`has unsupported "alg" ${JSON.stringify(alg)}`);
      return ok({ ...jwk, alg } as JWK & { kid: string; alg: string });
    },
  } satisfies Setting<JWK & { kid: string; alg: string }>,
  clientSecret: {
    env: 'AZURE_APP_CLIENT_SECRET',
    group: 'Identity provider',
    description: 'Client secret for client_secret_post, used only when AZURE_APP_JWK is not set.',
    example: 'a-secret-from-the-app-registration',
    secret: true,
    parse: text,
  } satisfies Setting<string>,
  assertionAudience: {
    env: 'VESTIBULE_CLIENT_ASSERTION_AUDIENCE',
    group: 'Identity provider',
    description:
      'The "aud" of private_key_jwt assertions: the issuer (as Texas and Wonderwall send) or the token endpoint (as Microsoft documents).',
    default: 'issuer',
    example: 'token_endpoint',
    parse: (raw) => {
      const v = raw.trim();
      return v === 'issuer' || v === 'token_endpoint' ? ok(v) : bad('must be issuer or token_endpoint');
    },
  } satisfies Setting<'issuer' | 'token_endpoint'>,
  scopes: {
    env: 'VESTIBULE_SCOPES',
    group: 'Identity provider',
    description:
      'Space-separated scopes requested at login. The default asks for an access token whose audience is the app itself.',
    default: 'openid offline_access api://<client id>/.default',
    example: 'openid offline_access api://e89006c5-7193-4ca3-8e26-d0990d9d981f/.default',
    parse: (raw) => {
      const scopes = raw.trim().split(/\s+/).filter(Boolean);
      if (!scopes.includes('openid')) return bad('must include openid');
      return ok(scopes);
    },
  } satisfies Setting<string[]>,
  ingress: {
    env: 'VESTIBULE_INGRESS',
    group: 'Routing',
    description:
      "Comma-separated public base URLs of the app. The redirect URI is <ingress>/oauth2/callback and vestibule's routes live under each ingress path.",
    example: 'https://app.example.com,https://example.com/app',
    parse: list,
  } satisfies Setting<string[]>,
  upstream: {
    env: 'VESTIBULE_UPSTREAM',
    group: 'Routing',
    description: 'Base URL of the app that requests are forwarded to.',
    default: 'http://127.0.0.1:8080',
    example: 'http://127.0.0.1:8080',
    parse: (raw) => {
      let u: URL;
      try {
        u = new URL(raw.trim());
      } catch {
        return bad('is not an absolute URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad('must be an http:// or https:// URL');
      if (u.pathname !== '/' || u.search || u.hash) return bad('must not have a path, query or fragment');
      return ok(u.origin);
    },
  } satisfies Setting<string>,
  upstreamTimeout: {
    env: 'VESTIBULE_UPSTREAM_TIMEOUT',
    group: 'Routing',
    description:
      'How long to wait for the app to start answering (504 when exceeded), and the longest pause allowed between two chunks of a streamed body. Streams that keep flowing may last any time.',
    default: '60s',
    example: '30s',
    parse: duration(100, 3_600_000),
  } satisfies Setting<number>,
  trustedProxies: {
    env: 'VESTIBULE_TRUSTED_PROXIES',
    group: 'Routing',
    description:
      'Comma-separated IP addresses or CIDRs of proxies whose X-Forwarded-For is kept and extended. By default client-sent forwarding headers are replaced.',
    example: '10.0.0.0/8,127.0.0.1',
    parse: list,
  } satisfies Setting<string[]>,
  autoLogin: {
    env: 'VESTIBULE_AUTO_LOGIN',
    group: 'Routing',
    description:
      'Require a session for every proxied request: browser navigations are redirected to login, other requests get 401 JSON with a login_url.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  autoLoginIgnorePaths: {
    env: 'VESTIBULE_AUTO_LOGIN_IGNORE_PATHS',
    group: 'Routing',
    description:
      'Comma-separated globs of paths that auto-login leaves alone (matched on the normalised path, never the query). * matches within a segment, /** any depth. /favicon.ico and /robots.txt are always ignored.',
    example: '/public/**,/api/health,/static/**/*.js',
    parse: globs,
  } satisfies Setting<string[]>,
  requireTokenPaths: {
    env: 'VESTIBULE_REQUIRE_TOKEN_PATHS',
    group: 'Routing',
    description:
      'Comma-separated globs of paths that require a valid Entra bearer token for this app (or a browser session); others get 401 before reaching the app. Optionally per entry: " roles=a|b" and/or " scopes=c|d" (any one suffices).',
    example: '/api/**,/api/admin/** roles=admin',
    parse: tokenRules,
  } satisfies Setting<TokenRule[]>,
  forwardAuth: {
    env: 'VESTIBULE_FORWARD_AUTH',
    group: 'Routing',
    description:
      'Serve /oauth2/session/forwardauth for nginx auth_request, Traefik ForwardAuth and similar: 204 with Authorization: Bearer, or 401.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  forwardAuthSetHeaders: {
    env: 'VESTIBULE_FORWARD_AUTH_SET_HEADERS',
    group: 'Routing',
    description:
      "With VESTIBULE_FORWARD_AUTH: the 204 also carries the session's ID token as X-Wonderwall-Forward-Auth-Token (Wonderwall's session.forward-auth-set-headers), for ingress set-ups that copy it to the app.",
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  upstreamIncludeIdToken: {
    env: 'VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN',
    group: 'Routing',
    description:
      "Send the session's ID token to the app as X-Wonderwall-Id-Token with every authenticated request (Wonderwall's upstream-include-id-token). A client's own X-Wonderwall-* headers are always dropped.",
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  csrfCheck: {
    env: 'VESTIBULE_CSRF_CHECK',
    group: 'Routing',
    description:
      'Refuse (403) POST, PUT, PATCH and DELETE that carry a session and come from another site: by Fetch Metadata (only Sec-Fetch-Site same-origin or none pass, so a sibling subdomain is refused) or, without it, by an Origin that is not an ingress origin. Requests without either (curl, servers) pass. For apps behind the bearer token that have no CSRF defence of their own.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  redisUrl: {
    env: 'VESTIBULE_REDIS_URL',
    group: 'Sessions',
    description:
      'redis:// or rediss:// URL of the session store. Required unless VESTIBULE_DEVELOPMENT_MODE=true (then unset means an in-memory store, valid for a single replica only).',
    example: 'rediss://user:password@redis.example.com:6380/0',
    secret: true,
    parse: (raw) => {
      let u: URL;
      try {
        u = new URL(raw.trim());
      } catch {
        return bad('is not a URL');
      }
      return u.protocol === 'redis:' || u.protocol === 'rediss:'
        ? ok(u.href)
        : bad('must start with redis:// or rediss://');
    },
  } satisfies Setting<string>,
  encryptionKey: {
    env: 'VESTIBULE_ENCRYPTION_KEY',
    group: 'Sessions',
    description:
      'Base64 of 32 random bytes (openssl rand -base64 32). Encrypts sessions and cookies; all replicas share it. Required unless VESTIBULE_DEVELOPMENT_MODE=true.',
    example: 'q3p0Hb4m1lH6lcx1aEYQmJ4vX0wq3Qd5qk8m0m0bYt8=',
    secret: true,
    parse: (raw) => {
      const b = Buffer.from(raw.trim(), 'base64');
      if (b.length !== 32 || !/^[A-Za-z0-9+/=_-]+$/.test(raw.trim())) return bad('must be base64 of exactly 32 bytes');
      return ok(b);
    },
  } satisfies Setting<Buffer>,
  encryptionKeyPrevious: {
    env: 'VESTIBULE_ENCRYPTION_KEY_PREVIOUS',
    group: 'Sessions',
    description:
      'Comma-separated previous encryption keys, for a rolling key rotation: sessions and cookies made with them stay valid and are re-sealed with the current key on their next write.',
    example: 'q3p0Hb4m1lH6lcx1aEYQmJ4vX0wq3Qd5qk8m0m0bYt8=',
    secret: true,
    parse: (raw) => {
      const keys: Buffer[] = [];
      for (const part of raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const b = Buffer.from(part, 'base64');
        if (b.length !== 32 || !/^[A-Za-z0-9+/=_-]+$/.test(part))
          return bad('must list base64 keys of exactly 32 bytes each');
        keys.push(b);
      }
      return ok(keys);
    },
  } satisfies Setting<Buffer[]>,
  sessionMaxLifetime: {
    env: 'VESTIBULE_SESSION_MAX_LIFETIME',
    group: 'Sessions',
    description: 'Absolute lifetime of a session, whatever the activity.',
    default: '10h',
    example: '8h',
    parse: duration(60_000, 30 * 86_400_000),
  } satisfies Setting<number>,
  sessionInactivityTimeout: {
    env: 'VESTIBULE_SESSION_INACTIVITY_TIMEOUT',
    group: 'Sessions',
    description:
      'Off by default. When set, a session unused for this long becomes inactive (no token is forwarded); activity extends it, the max lifetime stays a hard limit.',
    example: '30m',
    parse: duration(60_000, 30 * 86_400_000),
  } satisfies Setting<number>,
  refreshMargin: {
    env: 'VESTIBULE_REFRESH_MARGIN',
    group: 'Sessions',
    description: 'Refresh the access token when it expires within this margin, before forwarding a request.',
    default: '30s',
    example: '1m',
    parse: duration(0, 3_600_000),
  } satisfies Setting<number>,
  refreshCooldown: {
    env: 'VESTIBULE_REFRESH_COOLDOWN',
    group: 'Sessions',
    description: 'Least time between two refreshes of one session (halved for tokens that live two minutes or less).',
    default: '1m',
    example: '30s',
    parse: duration(0, 3_600_000),
  } satisfies Setting<number>,
  redisSentinels: {
    env: 'VESTIBULE_REDIS_SENTINELS',
    group: 'Sessions',
    description:
      'Comma-separated host:port of Redis Sentinels. With it, VESTIBULE_REDIS_URL only supplies credentials, TLS and database.',
    example: 'sentinel-0.redis:26379,sentinel-1.redis:26379,sentinel-2.redis:26379',
    parse: hostPorts,
  } satisfies Setting<Address[]>,
  redisSentinelMaster: {
    env: 'VESTIBULE_REDIS_SENTINEL_MASTER',
    group: 'Sessions',
    description: 'Name of the master the Sentinels watch.',
    default: 'mymaster',
    example: 'sessions',
    parse: text,
  } satisfies Setting<string>,
  redisClusterNodes: {
    env: 'VESTIBULE_REDIS_CLUSTER_NODES',
    group: 'Sessions',
    description:
      'Comma-separated host:port seed nodes of a Redis Cluster. With it, VESTIBULE_REDIS_URL only supplies credentials and TLS.',
    example: 'redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379',
    parse: hostPorts,
  } satisfies Setting<Address[]>,
  bindAddress: {
    env: 'VESTIBULE_BIND_ADDRESS',
    group: 'Listeners',
    description: 'Public listener: the login routes and the proxy.',
    default: '0.0.0.0:7564',
    example: '0.0.0.0:7564',
    parse: address,
  } satisfies Setting<Address>,
  adminBindAddress: {
    env: 'VESTIBULE_ADMIN_BIND_ADDRESS',
    group: 'Listeners',
    description: 'Admin listener: /healthz and /readyz. Never exposed through the ingress.',
    default: '0.0.0.0:7565',
    example: '0.0.0.0:7565',
    parse: address,
  } satisfies Setting<Address>,
  tokenBindAddress: {
    env: 'VESTIBULE_TOKEN_BIND_ADDRESS',
    group: 'Listeners',
    description:
      'Token API (Texas-compatible: token, token exchange, introspection). Loopback only: the app in the same pod calls it; never the public port.',
    default: '127.0.0.1:7164',
    example: '127.0.0.1:7164',
    parse: address,
  } satisfies Setting<Address>,
  tokenLeeway: {
    env: 'VESTIBULE_TOKEN_LEEWAY',
    group: 'Identity provider',
    description: 'Clock skew allowed when validating exp, nbf and iat of tokens.',
    default: '30s',
    example: '60s',
    parse: duration(0, 300_000),
  } satisfies Setting<number>,
  shutdownTimeout: {
    env: 'VESTIBULE_SHUTDOWN_TIMEOUT',
    group: 'Operations',
    description:
      'On SIGTERM readiness turns 503 and the listeners stop accepting; in-flight requests and websockets get this long to finish before they are cut. Keep the pod terminationGracePeriodSeconds above it.',
    default: '20s',
    example: '45s',
    parse: duration(0, 600_000),
  } satisfies Setting<number>,
  developmentMode: {
    env: 'VESTIBULE_DEVELOPMENT_MODE',
    group: 'Operations',
    description:
      'Development only: allows running without VESTIBULE_REDIS_URL (an in-memory store, one replica, lost on restart) and without VESTIBULE_ENCRYPTION_KEY (a random key per process). Without it, both are required.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  logLevel: {
    env: 'VESTIBULE_LOG_LEVEL',
    group: 'Operations',
    description: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    example: 'debug',
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)
        ? ok(v)
        : bad('must be one of fatal, error, warn, info, debug, trace, silent');
    },
  } satisfies Setting<string>,
};

export type SettingKey = keyof typeof settings;
export const allSettings: readonly Setting<unknown>[] = Object.values(settings);
