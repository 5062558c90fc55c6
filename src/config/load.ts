import type { JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { isLoopbackHostname, parseIngress, type Ingress } from './ingress.js';
import { settings, type Address, type Setting, type TokenRule } from './settings.js';

export type ClientAuthConfig =
  | { readonly method: 'private_key_jwt'; readonly jwk: JWK & { kid: string; alg: string } }
  | { readonly method: 'client_secret_post'; readonly secret: string };

export type StoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly Address[];
      readonly master: string;
      readonly url?: string | undefined;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly Address[]; readonly url?: string | undefined };

/** The whole validated configuration: parsed once at start-up, deep-frozen, passed down in pieces. */
export interface Config {
  readonly clientId: string;
  readonly wellKnownUrl: string;
  /** True only for an http:// discovery URL on a loopback host (local development and tests). */
  readonly allowInsecureIdp: boolean;
  readonly clientAuth: ClientAuthConfig;
  readonly assertionAudience: 'issuer' | 'token_endpoint';
  readonly scopes: readonly string[];
  readonly ingresses: readonly Ingress[];
  readonly upstream: string;
  readonly upstreamTimeoutMs: number;
  readonly trustedProxies: readonly string[];
  readonly autoLogin: boolean;
  readonly autoLoginIgnorePaths: readonly string[];
  readonly requireTokenPaths: readonly TokenRule[];
  readonly forwardAuth: boolean;
  /** VESTIBULE_FORWARD_AUTH_SET_HEADERS: forward-auth's 204 carries X-Wonderwall-Forward-Auth-Token. */
  readonly forwardAuthSetHeaders: boolean;
  /** VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN: the app gets the session's ID token as X-Wonderwall-Id-Token. */
  readonly upstreamIncludeIdToken: boolean;
  /** VESTIBULE_CSRF_CHECK: cross-site unsafe requests with a session are refused. */
  readonly csrfCheck: boolean;
  readonly store: StoreConfig;
  readonly encryptionKey: Buffer;
  /** Keys still accepted for reading (rotation); never used to seal. */
  readonly encryptionKeyPrevious: readonly Buffer[];
  /** True when no key was configured and a random one was made for this process (in-memory store only). */
  readonly ephemeralKey: boolean;
  /** VESTIBULE_DEVELOPMENT_MODE: the in-memory store and a per-process key are allowed. */
  readonly developmentMode: boolean;
  readonly sessionMaxLifetimeMs: number;
  /** Inactivity timeout, or null when off. */
  readonly sessionInactivityTimeoutMs: number | null;
  readonly refreshMarginMs: number;
  readonly refreshCooldownMs: number;
  /** Clock skew tolerated on exp, nbf and iat. */
  readonly tokenLeewayMs: number;
  readonly bind: Address;
  readonly adminBind: Address;
  readonly tokenBind: Address;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
}

export interface ConfigProblem {
  readonly variable: string;
  readonly problem: string;
  readonly example: string;
}

/** Thrown with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.variable} ${p.problem}. Example: ${p.variable}=${p.example}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates every setting from `env`. Throws a {@link ConfigError} listing all problems; never
 * echoes a secret's value.
 */
export function loadConfig(env: Env): Config {
  const problems: ConfigProblem[] = [];
  const complain = (s: Setting<unknown>, problem: string): void => {
    problems.push({ variable: s.env, problem, example: s.example });
  };
  function read<T>(s: Setting<T>, required: true): T | undefined;
  function read<T>(s: Setting<T>, required?: false): T | undefined;
  function read<T>(s: Setting<T>, required = false): T | undefined {
    const raw = env[s.env] ?? s.default;
    if (raw === undefined || raw.trim() === '') {
      if (required) complain(s, 'is required');
      return undefined;
    }
    const r = s.parse(raw);
    if (r.ok) return r.value;
    complain(s, r.problem);
    return undefined;
  }

  const clientId = read(settings.clientId, true);
  const wellKnownUrl = read(settings.wellKnownUrl, true);
  const jwk = read(settings.jwk);
  const secret = env[settings.jwk.env] ? undefined : read(settings.clientSecret);
  if (env[settings.jwk.env] === undefined && env[settings.clientSecret.env] === undefined) {
    complain(settings.jwk, 'or AZURE_APP_CLIENT_SECRET is required for client authentication');
  }
  const assertionAudience = read(settings.assertionAudience) ?? 'issuer';
  const scopes =
    env[settings.scopes.env] !== undefined
      ? read(settings.scopes)
      : ['openid', 'offline_access', `api://${clientId ?? '<client id>'}/.default`];

  const ingressList = read(settings.ingress, true) ?? [];
  const ingresses: Ingress[] = [];
  if (env[settings.ingress.env] !== undefined && ingressList.length === 0) complain(settings.ingress, 'is required');
  for (const raw of ingressList) {
    const parsed = parseIngress(raw);
    if (typeof parsed === 'string') complain(settings.ingress, `entry ${JSON.stringify(raw)} ${parsed}`);
    else if (ingresses.some((i) => i.origin === parsed.origin && i.path === parsed.path)) {
      complain(settings.ingress, `lists ${JSON.stringify(raw)} twice`);
    } else ingresses.push(parsed);
  }

  const upstream = read(settings.upstream);
  const upstreamTimeoutMs = read(settings.upstreamTimeout);
  const trustedProxies = read(settings.trustedProxies) ?? [];
  for (const p of trustedProxies) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p))
      complain(settings.trustedProxies, `entry ${JSON.stringify(p)} is not an IP address or CIDR`);
  }
  const autoLogin = read(settings.autoLogin) ?? false;
  const autoLoginIgnorePaths = read(settings.autoLoginIgnorePaths) ?? [];
  const requireTokenPaths = read(settings.requireTokenPaths) ?? [];
  const forwardAuth = read(settings.forwardAuth) ?? false;
  const forwardAuthSetHeaders = read(settings.forwardAuthSetHeaders) ?? false;
  if (forwardAuthSetHeaders && !forwardAuth) {
    // As Wonderwall refuses session.forward-auth-set-headers without session.forward-auth.
    complain(settings.forwardAuthSetHeaders, `needs ${settings.forwardAuth.env}=true`);
  }
  const upstreamIncludeIdToken = read(settings.upstreamIncludeIdToken) ?? false;
  const csrfCheck = read(settings.csrfCheck) ?? false;
  const redisUrl = read(settings.redisUrl);
  const sentinels = read(settings.redisSentinels);
  const sentinelMaster = read(settings.redisSentinelMaster) ?? 'mymaster';
  const clusterNodes = read(settings.redisClusterNodes);
  if (sentinels && clusterNodes) {
    complain(settings.redisClusterNodes, 'cannot be combined with VESTIBULE_REDIS_SENTINELS (choose one topology)');
  }
  const sharedStore = redisUrl !== undefined || sentinels !== undefined || clusterNodes !== undefined;
  // The in-memory store and a per-process key lose every session on restart and break with a second replica:
  // development conveniences that production must ask for by name, not get by leaving a variable out.
  const developmentMode = read(settings.developmentMode) ?? false;
  if (!sharedStore && !developmentMode) {
    complain(
      settings.redisUrl,
      `is required (or ${settings.developmentMode.env}=true for an in-memory store on one replica, in development only)`,
    );
  }
  let encryptionKey = read(settings.encryptionKey);
  let ephemeralKey = false;
  if (encryptionKey === undefined && env[settings.encryptionKey.env] === undefined) {
    if (sharedStore) {
      complain(settings.encryptionKey, 'is required with Redis (all replicas must share it)');
    } else if (developmentMode) {
      encryptionKey = randomBytes(32);
      ephemeralKey = true;
    }
  }
  const encryptionKeyPrevious = read(settings.encryptionKeyPrevious) ?? [];
  const sessionMaxLifetimeMs = read(settings.sessionMaxLifetime);
  const sessionInactivityTimeoutMs = read(settings.sessionInactivityTimeout) ?? null;
  if (
    sessionInactivityTimeoutMs !== null &&
    sessionMaxLifetimeMs !== undefined &&
    sessionInactivityTimeoutMs > sessionMaxLifetimeMs
  ) {
    complain(settings.sessionInactivityTimeout, 'must not be longer than VESTIBULE_SESSION_MAX_LIFETIME');
  }
  const refreshMarginMs = read(settings.refreshMargin);
  const refreshCooldownMs = read(settings.refreshCooldown);
  const tokenLeewayMs = read(settings.tokenLeeway);
  const bind = read(settings.bindAddress);
  const adminBind = read(settings.adminBindAddress);
  const tokenBind = read(settings.tokenBindAddress);
  const ports = [bind, adminBind, tokenBind].map((a) => a?.port).filter((p) => p !== undefined && p !== 0);
  if (new Set(ports).size !== ports.length) {
    complain(
      settings.adminBindAddress,
      'VESTIBULE_BIND_ADDRESS, VESTIBULE_ADMIN_BIND_ADDRESS and VESTIBULE_TOKEN_BIND_ADDRESS must use different ports',
    );
  }
  if (tokenBind && !isLoopbackHostname(tokenBind.host) && tokenBind.host !== '::1') {
    complain(
      settings.tokenBindAddress,
      'must be a loopback address: the token API mints tokens for anyone who can reach it',
    );
  }
  const shutdownTimeoutMs = read(settings.shutdownTimeout);
  const logLevel = read(settings.logLevel) ?? 'info';

  if (problems.length > 0) throw new ConfigError(problems);

  // Every value below was read without a problem; the checks only narrow the types.
  if (
    clientId === undefined ||
    wellKnownUrl === undefined ||
    scopes === undefined ||
    upstream === undefined ||
    upstreamTimeoutMs === undefined ||
    encryptionKey === undefined ||
    sessionMaxLifetimeMs === undefined ||
    refreshMarginMs === undefined ||
    refreshCooldownMs === undefined ||
    tokenLeewayMs === undefined ||
    bind === undefined ||
    adminBind === undefined ||
    tokenBind === undefined ||
    shutdownTimeoutMs === undefined
  ) {
    throw new RangeError('configuration incomplete without a reported problem');
  }
  const clientAuth: ClientAuthConfig =
    jwk !== undefined ? { method: 'private_key_jwt', jwk } : { method: 'client_secret_post', secret: secret ?? '' };

  return deepFreeze({
    clientId,
    wellKnownUrl,
    allowInsecureIdp: new URL(wellKnownUrl).protocol === 'http:' && isLoopbackHostname(new URL(wellKnownUrl).hostname),
    clientAuth,
    assertionAudience,
    scopes,
    ingresses,
    upstream,
    upstreamTimeoutMs,
    trustedProxies,
    autoLogin,
    autoLoginIgnorePaths,
    requireTokenPaths,
    forwardAuth,
    forwardAuthSetHeaders,
    upstreamIncludeIdToken,
    csrfCheck,
    store: sentinels
      ? { kind: 'sentinel', sentinels, master: sentinelMaster, url: redisUrl }
      : clusterNodes
        ? { kind: 'cluster', nodes: clusterNodes, url: redisUrl }
        : redisUrl !== undefined
          ? { kind: 'redis', url: redisUrl }
          : { kind: 'memory' },
    encryptionKey,
    encryptionKeyPrevious,
    ephemeralKey,
    developmentMode,
    sessionMaxLifetimeMs,
    sessionInactivityTimeoutMs,
    refreshMarginMs,
    refreshCooldownMs,
    tokenLeewayMs,
    bind,
    adminBind,
    tokenBind,
    shutdownTimeoutMs,
    logLevel,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
