import type { JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { parseIngress, type Ingress } from './ingress.js';
import { isLoopbackName } from './loopback.js';
import type { OtelSettings } from '../tracing/tracer.js';
import { otlpHeadersProblem } from '../tracing/otlp-headers.js';
import { isGuid } from './guid.js';
import {
  allSettings,
  ignoredVariables,
  isComposite,
  peerPrefixes,
  settings,
  type Address,
  type PreAuthorizedApp,
  type Setting,
  type TokenRule,
} from './settings.js';

export type ClientAuthConfig =
  | { readonly method: 'private_key_jwt'; readonly jwk: JWK & { kid: string; alg: string } }
  | { readonly method: 'client_secret_post'; readonly secret: string }
  /** Workload identity: the projected service-account token in this file is the client assertion. */
  | { readonly method: 'federated_token_file'; readonly tokenFile: string };

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
  /** VESTIBULE_ACR_VALUES (WONDERWALL_OPENID_ACR_VALUES): the default acr_values of a login; undefined when unset. */
  readonly acrValues: string | undefined;
  /** VESTIBULE_CLIENT_CAPABILITIES: declared at login as access_token.xms_cc (e.g. cp1); empty when unset. */
  readonly clientCapabilities: readonly string[];
  readonly ingresses: readonly Ingress[];
  readonly upstream: string;
  readonly upstreamTimeoutMs: number;
  /** VESTIBULE_SEND_TIMEOUT: the longest a client may take none of a proxied answer. */
  readonly sendTimeoutMs: number;
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
  /** The forward-auth listener (answers with the token), or null when there is none. */
  readonly forwardAuthBind: Address | null;
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
  /** null: the listener is off (`off`). */
  readonly adminBind: Address | null;
  /** Bearer secret of the operator endpoints; null: they are off. Never logged. */
  readonly adminToken: string | null;
  readonly tokenBind: Address | null;
  /** Wonderwall's probe listener (7566 on NAIS); null when off. */
  readonly probeBind: Address | null;
  /** Texas's probe listener (7165 on NAIS); null when off. */
  readonly tokenProbeBind: Address | null;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** The tenant's endpoints as NAIS injects them (AZURE_OPENID_CONFIG_*), to check against discovery. */
  readonly openidConfig: {
    readonly issuer?: string | undefined;
    readonly jwksUri?: string | undefined;
    readonly tokenEndpoint?: string | undefined;
  };
  readonly tenantId: string | undefined;
  /** AZURE_APP_PRE_AUTHORIZED_APPS: the apps allowed to call this one (empty when unset). */
  readonly preAuthorizedApps: readonly PreAuthorizedApp[];
  /**
   * The caller allow-list of protected paths: AZURE_APP_PRE_AUTHORIZED_APPS when it is set (even `[]`: then only
   * this app's own tokens pass), null when it is unset (any azp of the tenant passes).
   */
  readonly callerAllowList: readonly PreAuthorizedApp[] | null;
  /** VESTIBULE_GRAPH_URL, without a trailing slash. */
  readonly graphUrl: string;
  /** VESTIBULE_GROUPS_CACHE_TTL: how long a bearer caller's groups looked up in Graph are kept. */
  readonly groupsCacheTtlMs: number;
  /** VESTIBULE_SKIP_AUTH_PREFLIGHT: CORS preflights pass to the app unauthenticated. */
  readonly skipAuthPreflight: boolean;
  /** VESTIBULE_ALLOWED_TENANTS (lower case); empty unless the discovery URL is multi-tenant. */
  readonly allowedTenants: readonly string[];
  /** OTEL_*: the trace exporter's settings (docs/operations.md, Tracing). */
  readonly otel: OtelSettings & {
    /** Whether spans are exported: an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp, and not OTEL_TRACES_EXPORTER=none. */
    readonly tracing: boolean;
  };
  /** For each setting read from a peer's variable(s) instead of its own: setting → what was read. */
  readonly readFrom: Readonly<Record<string, string>>;
  /** Said once at start-up: unknown WONDERWALL_ and TEXAS_ variables, accepted values that are ignored. */
  readonly warnings: readonly string[];
}

export interface ConfigProblem {
  readonly variable: string;
  readonly problem: string;
  readonly example: string;
  /** The whole line, when `variable problem. Example: variable=example` does not fit (several variables). */
  readonly line?: string;
}

/** Thrown with every problem found, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems
          .map((p) => `  ${p.line ?? `${p.variable} ${p.problem}. Example: ${p.variable}=${p.example}`}`)
          .join('\n'),
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
  const warnings: string[] = [];
  const readFrom: Record<string, string> = {};
  const complain = (s: Setting<unknown>, problem: string): void => {
    problems.push({ variable: s.env, problem, example: s.example });
  };
  const present = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };

  /**
   * The text of a setting and where it came from: its own variable, else its aliases (the peers' variables,
   * converted). Two aliases that disagree are a problem naming both.
   */
  interface Found {
    readonly raw: string;
    readonly from: string;
    readonly example: string;
    readonly composite: boolean;
  }
  const resolved = new Map<Setting<unknown>, Found | null>();
  function resolve(s: Setting<unknown>): Found | null {
    const cached = resolved.get(s);
    if (cached !== undefined) return cached;
    const own = present(s.env);
    let result: Found | null =
      own !== undefined ? { raw: own, from: s.env, example: s.example, composite: false } : null;
    if (result === null) {
      const found: Found[] = [];
      // The Azure Workload Identity webhook's variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, …) are read only beside
      // its token file: without it they are the app's own (its Azure SDK's), never a second opinion to refuse.
      const webhook = present('AZURE_FEDERATED_TOKEN_FILE') !== undefined;
      for (const a of s.aliases ?? []) {
        if (a.from === 'Workload identity' && !webhook) continue;
        if (isComposite(a)) {
          const r = a.compose(present);
          if (r === undefined) continue;
          const from = a.envs.filter((e) => present(e) !== undefined).join(' + ');
          if (!r.ok)
            problems.push({
              variable: from,
              problem: r.problem,
              example: a.example,
              line: `${r.problem}. Example: ${a.example}`,
            });
          else found.push({ raw: r.value, from, example: a.example, composite: true });
        } else {
          const v = present(a.env);
          if (v === undefined) continue;
          const example = a.example ?? s.example;
          const r = a.convert ? a.convert(v) : { ok: true as const, value: v };
          if (!r.ok) problems.push({ variable: a.env, problem: r.problem, example });
          else found.push({ raw: r.value, from: a.env, example: `${a.env}=${example}`, composite: false });
        }
      }
      const distinct = found.filter((f, i) => found.findIndex((g) => g.raw.trim() === f.raw.trim()) === i);
      if (distinct.length > 1) {
        const names = distinct.map((f) => f.from);
        problems.push({
          variable: names.join(' and '),
          problem: 'disagree',
          example: s.example,
          line: `${names.join(' and ')} are both read as ${s.env} and disagree: set one of them, or ${s.env}. Example: ${s.env}=${s.secret ? '…' : s.example}`,
        });
      }
      if (found[0] !== undefined) {
        result = found[0];
        readFrom[s.env] = found.map((f) => f.from).join(', ');
      }
    }
    resolved.set(s, result);
    return result;
  }
  /** Whether the setting was given at all (its own variable or an alias). */
  const given = (s: Setting<unknown>): boolean => resolve(s) !== null;

  function read<T>(s: Setting<T>, required: true): T | undefined;
  function read<T>(s: Setting<T>, required?: false): T | undefined;
  function read<T>(s: Setting<T>, required = false): T | undefined {
    const found = resolve(s);
    const raw = found?.raw ?? s.default;
    if (raw === undefined || raw.trim() === '') {
      if (required) complain(s, 'is required');
      return undefined;
    }
    const r = s.parse(raw);
    if (r.ok) return r.value;
    if (found === null || found.from === s.env) complain(s, r.problem);
    else
      problems.push({
        variable: found.from,
        problem: r.problem,
        example: found.example,
        line: `${found.from} (read as ${s.env}) ${r.problem}. Example: ${found.example}`,
      });
    return undefined;
  }

  // The peers' variables nothing reads: refused when ignoring them would weaken the app's protection, else a
  // warning when their value asks for something vestibule does not do; unknown WONDERWALL_ and TEXAS_ names
  // (a typo) are reported.
  const known = new Set<string>();
  for (const s of allSettings) {
    known.add(s.env);
    for (const a of s.aliases ?? []) for (const e of isComposite(a) ? a.envs : [a.env]) known.add(e);
  }
  for (const ignored of ignoredVariables) {
    known.add(ignored.env);
    const v = env[ignored.env];
    if (v === undefined) continue;
    const verdict = ignored.check?.(v);
    if (verdict?.level === 'refuse') {
      problems.push({
        variable: ignored.env,
        problem: verdict.problem,
        example: '',
        line: `${ignored.env} ${verdict.problem}. Remove it (docs/migrating.md lists what vestibule reads)`,
      });
    } else if (verdict) warnings.push(`${ignored.env} ${verdict.problem}`);
  }
  for (const name of Object.keys(env).sort()) {
    if (peerPrefixes.some((p) => name.startsWith(p)) && !known.has(name)) {
      warnings.push(`${name} is not a variable vestibule knows (a typo?); it is ignored. docs/migrating.md lists them`);
    }
  }

  const clientId = read(settings.clientId, true);
  const wellKnownUrl = read(settings.wellKnownUrl);
  if (!given(settings.wellKnownUrl)) {
    complain(
      settings.wellKnownUrl,
      `is required (or ${settings.issuer.env}, or AZURE_TENANT_ID with workload identity, from which it is derived)`,
    );
  }
  // One credential. The JWK wins over the secret, as azurerator's secret holds both; the federated token file
  // (injected into every container of a pod labelled for workload identity) is refused beside either, since
  // which one the operator meant cannot be known.
  const tokenFile = read(settings.federatedTokenFile);
  const jwk = read(settings.jwk);
  const secret = given(settings.jwk) ? undefined : read(settings.clientSecret);
  const otherCredentials = [settings.jwk, settings.clientSecret]
    .map((s) => resolve(s)?.from)
    .filter((from): from is string => from !== undefined);
  if (given(settings.federatedTokenFile) && otherCredentials.length > 0) {
    complain(
      settings.federatedTokenFile,
      `cannot be combined with ${otherCredentials.join(' or ')} (choose one client authentication: unset the other, or keep the workload identity webhook out of this container with the pod annotation azure.workload.identity/skip-containers)`,
    );
  } else if (!given(settings.federatedTokenFile) && otherCredentials.length === 0) {
    complain(
      settings.jwk,
      `or ${settings.clientSecret.env} or ${settings.federatedTokenFile.env} is required for client authentication`,
    );
  }
  // The webhook's AZURE_CLIENT_ID is the app registration whose federated credential trusts this ServiceAccount;
  // vestibule's own client id wins, so the token would be sent for another app and refused only at login.
  const webhookClientId = present('AZURE_CLIENT_ID')?.trim();
  if (
    tokenFile !== undefined &&
    clientId !== undefined &&
    webhookClientId !== undefined &&
    webhookClientId !== clientId
  ) {
    warnings.push(
      `AZURE_CLIENT_ID (workload identity) is not ${settings.clientId.env}: the projected token is sent as the credential of ${clientId}, whose app registration must then have a federated credential for this ServiceAccount (else every login fails with AADSTS700213 or AADSTS70021)`,
    );
  }
  const assertionAudience = read(settings.assertionAudience) ?? 'issuer';
  const scopes = given(settings.scopes)
    ? read(settings.scopes)
    : ['openid', 'offline_access', `api://${clientId ?? '<client id>'}/.default`];

  const acrValues = read(settings.acrValues);
  const clientCapabilities = read(settings.clientCapabilities) ?? [];

  const ingressList = read(settings.ingress, true) ?? [];
  const ingresses: Ingress[] = [];
  if (given(settings.ingress) && ingressList.length === 0) complain(settings.ingress, 'is required');
  for (const raw of ingressList) {
    const parsed = parseIngress(raw);
    if (typeof parsed === 'string') complain(settings.ingress, `entry ${JSON.stringify(raw)} ${parsed}`);
    else if (ingresses.some((i) => i.origin === parsed.origin && i.path === parsed.path)) {
      complain(settings.ingress, `lists ${JSON.stringify(raw)} twice`);
    } else ingresses.push(parsed);
  }

  const upstream = read(settings.upstream);
  const upstreamTimeoutMs = read(settings.upstreamTimeout);
  const sendTimeoutMs = read(settings.sendTimeout);
  const trustedProxies = read(settings.trustedProxies) ?? [];
  for (const p of trustedProxies) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p))
      complain(settings.trustedProxies, `entry ${JSON.stringify(p)} is not an IP address or CIDR`);
  }
  const autoLogin = read(settings.autoLogin) ?? false;
  const autoLoginIgnorePaths = read(settings.autoLoginIgnorePaths) ?? [];
  const rawTokenRules = read(settings.requireTokenPaths) ?? [];
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
  if (encryptionKey === undefined && !given(settings.encryptionKey)) {
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
  const adminToken = read(settings.adminToken) ?? null;
  const tokenBind = read(settings.tokenBindAddress);
  const forwardAuthBind = read(settings.forwardAuthBindAddress) ?? null;
  if (forwardAuthBind && !forwardAuth) {
    complain(settings.forwardAuthBindAddress, `needs ${settings.forwardAuth.env}=true`);
  }
  const probeBind = read(settings.probeBindAddress) ?? null;
  const tokenProbeBind = read(settings.tokenProbeBindAddress) ?? null;
  const listeners = [
    [settings.bindAddress, bind],
    [settings.adminBindAddress, adminBind],
    [settings.tokenBindAddress, tokenBind],
    [settings.probeBindAddress, probeBind],
    [settings.tokenProbeBindAddress, tokenProbeBind],
    [settings.forwardAuthBindAddress, forwardAuthBind],
  ] as const;
  for (const [i, [s, a]] of listeners.entries()) {
    if (!a || a.port === 0) continue;
    const other = listeners.slice(0, i).find(([, b]) => b?.port === a.port);
    if (other) {
      const name = (x: Setting<unknown>): string => (readFrom[x.env] ? `${x.env} (${readFrom[x.env]})` : x.env);
      complain(s, `uses port ${a.port}, as ${name(other[0])} does: every listener needs its own port`);
    }
  }
  if (tokenBind && !isLoopbackName(tokenBind.host)) {
    complain(
      settings.tokenBindAddress,
      'must be a loopback address (127.x.x.x, [::1] or localhost): the token API mints tokens for anyone who can reach it',
    );
  }
  const shutdownTimeoutMs = read(settings.shutdownTimeout);
  const logLevel = read(settings.logLevel) ?? 'info';
  const openidConfig = {
    issuer: read(settings.issuer),
    jwksUri: read(settings.jwksUri),
    tokenEndpoint: read(settings.tokenEndpoint),
  };
  const tenantId = read(settings.tenantId);
  const callerAllowList = read(settings.preAuthorizedApps) ?? null;
  const preAuthorizedApps = callerAllowList ?? [];
  const requireTokenPaths = resolveRuleCallers(rawTokenRules, callerAllowList, clientId, (problem) => {
    complain(settings.requireTokenPaths, problem);
  });
  const graphUrl = read(settings.graphUrl) ?? 'https://graph.microsoft.com';
  const groupsCacheTtlMs = read(settings.groupsCacheTtl) ?? 300_000;
  const skipAuthPreflight = read(settings.skipAuthPreflight) ?? false;
  const allowedTenantsRaw = read(settings.allowedTenants);
  const multiTenant = wellKnownUrl !== undefined && isMultiTenantUrl(wellKnownUrl);
  // Only when the setting is absent: a value that did not parse has its own problem already.
  if (multiTenant && !given(settings.allowedTenants)) {
    complain(
      settings.allowedTenants,
      `must list the tenants to accept: ${settings.wellKnownUrl.env} names the multi-tenant (organizations/common) endpoint`,
    );
  }
  const allowedTenants = multiTenant ? (allowedTenantsRaw ?? []) : [];
  if (!multiTenant && allowedTenantsRaw !== undefined) {
    warnings.push(
      `${settings.allowedTenants.env} is ignored: ${settings.wellKnownUrl.env} names one tenant, and only its tokens and logins are accepted`,
    );
  }
  if (multiTenant && rawTokenRules.some((rule) => rule.groups.length > 0)) {
    // Another tenant's group ids are not ours, and its overage cannot be looked up with our app token.
    complain(
      settings.requireTokenPaths,
      `groups= rules are not supported with the multi-tenant endpoint in ${settings.wellKnownUrl.env}: use roles= (app roles work in every tenant)`,
    );
  }
  const otelEndpoint = read(settings.otelEndpoint);
  const otelTracesEndpoint = read(settings.otelTracesEndpoint);
  const otelExporter = read(settings.otelTracesExporter);
  const otelTracing =
    otelExporter === 'otlp' ||
    (otelExporter === undefined && (otelEndpoint !== undefined || otelTracesEndpoint !== undefined));
  const otelHeaders = read(settings.otelHeaders) ?? {};
  const otelProtocol = read(settings.otelProtocol);
  // A header the exporter cannot send fails every export, and the failure quotes it (a credential): refused here,
  // not when tracing starts, and only with tracing on, the one time they are sent (tracing/otlp-headers.ts has the
  // rules). The exporter reads the traces-only variable itself, so it is checked too.
  if (otelTracing) {
    const protocol = otelProtocol === 'grpc' ? 'grpc' : 'http';
    // Read only now: with tracing off the exporter never reads it, and vestibule ignored it before it knew it.
    const otelTracesHeaders = read(settings.otelTracesHeaders) ?? {};
    for (const [setting, headers] of [
      [settings.otelHeaders, otelHeaders],
      [settings.otelTracesHeaders, otelTracesHeaders],
    ] as const) {
      const unsendable = otlpHeadersProblem(headers, protocol, present(setting.env));
      if (unsendable !== undefined) complain(setting, unsendable);
    }
  }
  const otel = {
    tracing: otelTracing,
    serviceName: read(settings.otelServiceName),
    endpoint: otelEndpoint,
    tracesEndpoint: otelTracesEndpoint,
    headers: otelHeaders,
    sampler: read(settings.otelTracesSampler) ?? 'parentbased_always_on',
    samplerArg: read(settings.otelTracesSamplerArg) ?? 1,
    batchDelayMs: read(settings.otelBatchDelay) ?? 5000,
    protocol: otelProtocol,
    insecure: read(settings.otelInsecure),
    resourceAttributes: read(settings.otelResourceAttributes) ?? {},
    podName: read(settings.podName),
  };

  if (problems.length > 0) throw new ConfigError(problems);

  // Every value below was read without a problem; the checks only narrow the types.
  if (
    clientId === undefined ||
    wellKnownUrl === undefined ||
    scopes === undefined ||
    upstream === undefined ||
    upstreamTimeoutMs === undefined ||
    sendTimeoutMs === undefined ||
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
    tokenFile !== undefined
      ? { method: 'federated_token_file', tokenFile }
      : jwk !== undefined
        ? { method: 'private_key_jwt', jwk }
        : { method: 'client_secret_post', secret: secret ?? '' };

  return deepFreeze({
    clientId,
    wellKnownUrl,
    allowInsecureIdp: new URL(wellKnownUrl).protocol === 'http:' && isLoopbackName(new URL(wellKnownUrl).hostname),
    clientAuth,
    assertionAudience,
    scopes,
    acrValues,
    clientCapabilities,
    ingresses,
    upstream,
    upstreamTimeoutMs,
    sendTimeoutMs,
    trustedProxies,
    autoLogin,
    autoLoginIgnorePaths,
    requireTokenPaths,
    forwardAuth,
    forwardAuthSetHeaders,
    upstreamIncludeIdToken,
    csrfCheck,
    forwardAuthBind,
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
    adminToken,
    tokenBind,
    probeBind,
    tokenProbeBind,
    shutdownTimeoutMs,
    logLevel,
    openidConfig,
    tenantId,
    preAuthorizedApps,
    callerAllowList,
    graphUrl,
    groupsCacheTtlMs,
    skipAuthPreflight,
    allowedTenants,
    otel,
    readFrom,
    warnings,
  });
}

/**
 * The rules with every `callers=` entry as a client id: a name is looked up in AZURE_APP_PRE_AUTHORIZED_APPS; a
 * client id (GUID) stays as it is, but must be listed there (or be this app) when the list is set, since the list
 * would refuse it anyway. Anything else is a start-up problem.
 */
function resolveRuleCallers(
  rules: readonly TokenRule[],
  allowList: readonly PreAuthorizedApp[] | null,
  clientId: string | undefined,
  complain: (problem: string) => void,
): TokenRule[] {
  return rules.map((rule) => ({
    ...rule,
    callers: rule.callers.map((caller) => {
      const byName = allowList?.find((a) => a.name === caller);
      if (byName) return byName.clientId;
      const known = caller === clientId || allowList === null || allowList.some((a) => a.clientId === caller);
      if (isGuid(caller) && known) return caller;
      complain(
        isGuid(caller)
          ? `rule ${JSON.stringify(rule.pattern)} names the caller ${caller}, which AZURE_APP_PRE_AUTHORIZED_APPS does not list`
          : `rule ${JSON.stringify(rule.pattern)} names the caller ${JSON.stringify(caller)}, which is neither a client id nor a name in AZURE_APP_PRE_AUTHORIZED_APPS`,
      );
      return caller;
    }),
  }));
}

/** Whether a discovery URL is Entra's multi-tenant endpoint (`/organizations/` or `/common/`). */
function isMultiTenantUrl(url: string): boolean {
  try {
    const first = new URL(url).pathname.split('/')[1]?.toLowerCase();
    return first === 'organizations' || first === 'common';
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
