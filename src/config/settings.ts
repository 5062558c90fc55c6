import { createHash } from 'node:crypto';
import { isGuid } from './guid.js';
import type { JWK } from 'jose';
import { compilePathGlobs } from '../paths/path-match.js';
import { parseDuration } from './duration.js';
import { isLoopbackName } from './loopback.js';

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
  /** The peers whose container NAIS injects this variable into under the same name (read here as it is). */
  readonly sameAs?: readonly Peer[];
  /** Other names this setting is read from (the peers' own variables); see {@link Alias}. */
  readonly aliases?: readonly (Alias | CompositeAlias)[];
}

/** The programs vestibule replaces, whose variables NAIS injects. */
export type Peer = 'Wonderwall' | 'Texas';

/**
 * Where an alias comes from: a peer, or Azure Workload Identity (its webhook injects AZURE_CLIENT_ID,
 * AZURE_TENANT_ID, AZURE_AUTHORITY_HOST and AZURE_FEDERATED_TOKEN_FILE into a pod on AKS). Only the peers'
 * variables belong in docs/migrating.md.
 */
export type AliasSource = Peer | 'Workload identity';

/**
 * Another name of a setting: a peer's variable, read when the setting's own variable is unset. `convert`
 * turns the peer's format into the setting's (absent when the format is the same). The setting's own
 * variable wins over every alias; two aliases that disagree stop start-up.
 */
export interface Alias {
  readonly env: string;
  readonly from: AliasSource;
  readonly convert?: (raw: string) => Parsed<string>;
  /** A valid value in the alias's format (the setting's example when absent). */
  readonly example?: string;
  readonly note?: string;
}

/**
 * Several peer variables that together make one setting (e.g. WONDERWALL_UPSTREAM_IP + _PORT → a URL).
 * `compose` gets the non-empty values and answers the setting's text, or undefined when none of them is set.
 */
export interface CompositeAlias {
  readonly envs: readonly string[];
  readonly from: AliasSource;
  readonly compose: (get: (env: string) => string | undefined) => Parsed<string> | undefined;
  readonly example: string;
  readonly note: string;
}

export const isComposite = (a: Alias | CompositeAlias): a is CompositeAlias => 'envs' in a;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

/**
 * SHA-256 of keys once printed as examples in vestibule's --help and docs/configuration.md: public, so they
 * protect nothing, and start-up refuses them (kept as hashes so no greppable example key remains).
 */
const PUBLISHED_KEY_HASHES = new Set(['101ebdf3cfa42b1aa99c3db1fb4ec774bf07452311b4010a103107ec780e57eb']);
const MAKE_KEY = 'make one with: openssl rand -base64 32';

/**
 * An encryption key: base64 (standard or URL-safe) of exactly 32 bytes. The problem says what was received in
 * terms that reveal nothing of it (lengths, not characters).
 */
function parseEncryptionKey(text: string): Buffer | string {
  if (text === '') return `is empty; ${MAKE_KEY}`;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    return `is not base64 (${text.length} characters, some outside A-Z a-z 0-9 + / = - _); ${MAKE_KEY}`;
  }
  const b = Buffer.from(text, 'base64');
  if (b.length !== 32) {
    const hex = /^[0-9a-fA-F]{64}$/.test(text)
      ? ' (it looks like hex, as openssl rand -hex 32 prints; base64 is needed)'
      : '';
    return `decodes to ${b.length} bytes; needs exactly 32${hex}; ${MAKE_KEY}`;
  }
  if (PUBLISHED_KEY_HASHES.has(createHash('sha256').update(b).digest('hex'))) {
    return `is the example key once printed in vestibule's documentation, which anyone can read; ${MAKE_KEY}`;
  }
  return b;
}

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

/** The non-empty, trimmed entries of a comma-separated list. */
const entries = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export const list = (raw: string): Parsed<string[]> => ok(entries(raw));

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A protected path and what its token (a browser session's or a bearer caller's) must carry. */
export interface TokenRule {
  readonly pattern: string;
  /** App roles (`roles` claim); with `scopes`, any one of either suffices. */
  readonly roles: readonly string[];
  /** Delegated scopes (`scp` claim). */
  readonly scopes: readonly string[];
  /** Group object ids (`groups` claim, or Microsoft Graph on overage); any one suffices. */
  readonly groups: readonly string[];
  /**
   * Calling apps (`azp`), by client id or by their name in AZURE_APP_PRE_AUTHORIZED_APPS as written; the
   * configuration resolves names to client ids at start-up, so the rules it hands on carry client ids only.
   */
  readonly callers: readonly string[];
  /** Conditional Access authentication context ids (`acrs` claim, `c1`…`c99`); any one suffices. */
  readonly acrs: readonly string[];
}

const RULE_OPTION = /^(roles|scopes|groups|callers|acrs)=([^|\s]+(?:\|[^|\s]+)*)$/;
const RULE_OPTIONS = 'roles=a|b, scopes=c|d, groups=<object id>|<object id>, callers=<name or client id>|… or acrs=c1';

/** A problem with the values of one rule option, or undefined. */
function optionProblem(kind: string, values: readonly string[]): string | undefined {
  if (kind === 'groups') {
    const bad = values.find((v) => !isGuid(v));
    return bad === undefined ? undefined : `groups= takes group object ids (GUIDs); ${JSON.stringify(bad)} is not one`;
  }
  if (kind === 'acrs') {
    const bad = values.find((v) => !/^c(?:[1-9]|[1-9][0-9])$/.test(v));
    return bad === undefined
      ? undefined
      : `acrs= takes authentication context ids c1 to c99; ${JSON.stringify(bad)} is not one`;
  }
  return undefined;
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
    const rule = {
      pattern,
      roles: [] as string[],
      scopes: [] as string[],
      groups: [] as string[],
      callers: [] as string[],
      acrs: [] as string[],
    };
    for (const opt of options) {
      const m = RULE_OPTION.exec(opt);
      if (!m)
        return bad(
          `has an invalid option ${JSON.stringify(opt)} in ${JSON.stringify(pattern)} (expected ${RULE_OPTIONS})`,
        );
      const kind = m[1] as 'roles' | 'scopes' | 'groups' | 'callers' | 'acrs';
      // Read as "and" by some and "or" by others, and the later one silently won: refused instead.
      if (rule[kind].length > 0)
        return bad(
          `has an invalid rule: ${kind}= is given twice in ${JSON.stringify(pattern)}; list the values once, as ${kind}=a|b`,
        );
      // Entra writes object and client ids (groups, azp) in lower case: an id copied in upper case is the same id.
      const values = (m[2] ?? '')
        .split('|')
        .map((v) => (kind !== 'roles' && kind !== 'scopes' && isGuid(v) ? v.toLowerCase() : v));
      const valueProblem = optionProblem(kind, values);
      if (valueProblem) return bad(`has an invalid option in ${JSON.stringify(pattern)}: ${valueProblem}`);
      rule[kind] = values;
    }
    rules.push(rule);
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

/** A listener's address, or `off` (`null`): the listener is not started. */
export const addressOrOff = (raw: string): Parsed<Address | null> => {
  if (raw.trim().toLowerCase() === 'off') return ok(null);
  const a = address(raw);
  return a.ok ? a : bad('must be host:port, or off');
};

/** An absolute https:// URL of the identity provider; http:// only for a loopback host (development, tests). */
export const idpUrl = (raw: string): Parsed<string> => {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return bad('is not an absolute URL');
  }
  if (u.protocol === 'https:') return ok(u.href);
  if (u.protocol === 'http:' && isLoopbackName(u.hostname)) return ok(u.href);
  return bad('must use https:// (http:// is accepted only for a loopback host: localhost, 127.0.0.1, [::1])');
};

/** One entry of AZURE_APP_PRE_AUTHORIZED_APPS: an app allowed to call this one. */
export interface PreAuthorizedApp {
  /** `<cluster>:<namespace>:<app>` */
  readonly name: string;
  readonly clientId: string;
}

export const preAuthorizedApps = (raw: string): Parsed<PreAuthorizedApp[]> => {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return bad('is not valid JSON');
  }
  if (!Array.isArray(v)) return bad('must be a JSON array of {"name","clientId"}');
  const apps: PreAuthorizedApp[] = [];
  for (const [i, e] of (v as unknown[]).entries()) {
    const entry = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    if (typeof entry.name !== 'string' || typeof entry.clientId !== 'string' || entry.clientId === '') {
      return bad(`entry ${i} must have a string "name" and "clientId"`);
    }
    // azp is lower case in Entra's tokens: a client id listed in upper case is the same app.
    apps.push({ name: entry.name, clientId: isGuid(entry.clientId) ? entry.clientId.toLowerCase() : entry.clientId });
  }
  return ok(apps);
};

/** `acr_values`: space-separated tokens without quotes or backslashes (RFC 6749 NQCHAR), at most 8. */
export const acrValues = (raw: string): Parsed<string> => {
  const values = raw.trim().split(/\s+/).filter(Boolean);
  if (values.length === 0) return bad('must not be empty');
  if (values.length > 8 || values.some((v) => !/^[A-Za-z0-9._:/~+-]{1,128}$/.test(v))) {
    return bad('must be up to 8 space-separated values of letters, digits and . _ : / ~ + -');
  }
  return ok(values.join(' '));
};

/** Client capabilities Entra knows (`xms_cc`): only `cp1` today, so a typo cannot pass silently. */
export const clientCapabilities = (raw: string): Parsed<string[]> => {
  const values = [...new Set(entries(raw))];
  const unknown = values.find((v) => v !== 'cp1');
  return unknown !== undefined
    ? bad(`lists ${JSON.stringify(unknown)}; the one capability Entra knows is cp1`)
    : ok(values);
};

/**
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs, comma-separated (W3C Baggage-like,
 * values may be %-encoded). A malformed entry is named by its position, never quoted: in the headers it is
 * usually a credential written the HTTP way (`Authorization: Bearer …`), and start-up errors are logged.
 */
export const keyValues = (raw: string): Parsed<Record<string, string>> => {
  const out: Record<string, string> = {};
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf('=');
    if (eq <= 0) return bad(`entry ${i + 1} of ${parts.length} must be key=value (not shown: it may hold a secret)`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return ok(out);
};

/**
 * A file path read at run time: absolute, so that what is read does not depend on the working directory (the
 * image's, a shell's) vestibule happens to be started in.
 */
export const absolutePath = (raw: string): Parsed<string> => {
  const path = raw.trim();
  if (path === '') return bad('must not be empty');
  return path.startsWith('/') ? ok(path) : bad('must be an absolute path (starting with /)');
};

/** Go's strconv.ParseBool, which Wonderwall's flags use: 1, t, T, TRUE, true, True and their false forms. */
const goBool = (raw: string): boolean | undefined => {
  const v = raw.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
};
const wonderwallBool = (raw: string): Parsed<string> => {
  const b = goBool(raw);
  return b === undefined ? bad('must be true or false') : ok(String(b));
};

/** Wonderwall: WONDERWALL_UPSTREAM_IP + _PORT (naiserator sets both) win over WONDERWALL_UPSTREAM_HOST; always http. */
const upstreamFromWonderwall: CompositeAlias = {
  envs: ['WONDERWALL_UPSTREAM_IP', 'WONDERWALL_UPSTREAM_PORT', 'WONDERWALL_UPSTREAM_HOST'],
  from: 'Wonderwall',
  example: 'WONDERWALL_UPSTREAM_IP=10.0.3.17 WONDERWALL_UPSTREAM_PORT=8080',
  note: 'IP + PORT (or HOST as host:port) become http://IP:PORT, as Wonderwall builds it',
  compose: (get) => {
    const ip = get('WONDERWALL_UPSTREAM_IP');
    const port = get('WONDERWALL_UPSTREAM_PORT');
    const host = get('WONDERWALL_UPSTREAM_HOST');
    if (ip !== undefined || port !== undefined) {
      if (ip === undefined) return bad('WONDERWALL_UPSTREAM_IP must be set when WONDERWALL_UPSTREAM_PORT is');
      if (port === undefined) return bad('WONDERWALL_UPSTREAM_PORT must be set when WONDERWALL_UPSTREAM_IP is');
      const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
      if (!(n >= 1 && n <= 65535)) return bad('WONDERWALL_UPSTREAM_PORT must be between 1 and 65535');
      return ok(`http://${ip.includes(':') ? `[${ip}]` : ip}:${n}`);
    }
    if (host !== undefined) return ok(`http://${host}`);
    return undefined;
  },
};

/**
 * Wonderwall: WONDERWALL_REDIS_URI with WONDERWALL_REDIS_USERNAME / _PASSWORD overriding the URI's own
 * credentials (go-redis semantics; the wonderwall-azure-config secret sets all three). The deprecated
 * WONDERWALL_REDIS_ADDRESS (host:port) is read when the URI is unset, with TLS unless WONDERWALL_REDIS_TLS=false.
 */
const redisFromWonderwall: CompositeAlias = {
  envs: [
    'WONDERWALL_REDIS_URI',
    'WONDERWALL_REDIS_USERNAME',
    'WONDERWALL_REDIS_PASSWORD',
    'WONDERWALL_REDIS_ADDRESS',
    'WONDERWALL_REDIS_TLS',
  ],
  from: 'Wonderwall',
  example:
    'WONDERWALL_REDIS_URI=rediss://redis.example.com:26483 WONDERWALL_REDIS_USERNAME=app WONDERWALL_REDIS_PASSWORD=…',
  note: "combined into one URL; USERNAME and PASSWORD override the URI's, as in go-redis",
  compose: (get) => {
    const uri = get('WONDERWALL_REDIS_URI');
    const addr = get('WONDERWALL_REDIS_ADDRESS');
    let base: string;
    if (uri !== undefined) base = uri;
    else if (addr !== undefined) {
      const tls = goBool(get('WONDERWALL_REDIS_TLS') ?? 'true');
      if (tls === undefined) return bad('WONDERWALL_REDIS_TLS must be true or false');
      base = `${tls ? 'rediss' : 'redis'}://${addr}`;
    } else return undefined;
    let u: URL;
    try {
      u = new URL(base);
    } catch {
      return bad(`${uri !== undefined ? 'WONDERWALL_REDIS_URI' : 'WONDERWALL_REDIS_ADDRESS'} is not a valid address`);
    }
    const username = get('WONDERWALL_REDIS_USERNAME');
    const password = get('WONDERWALL_REDIS_PASSWORD');
    if (username !== undefined) u.username = encodeURIComponent(username);
    if (password !== undefined) u.password = encodeURIComponent(password);
    return ok(u.href);
  },
};

/** Wonderwall: the timeout counts only with WONDERWALL_SESSION_INACTIVITY=true, and is then 30m unless set. */
const inactivityFromWonderwall: CompositeAlias = {
  envs: ['WONDERWALL_SESSION_INACTIVITY', 'WONDERWALL_SESSION_INACTIVITY_TIMEOUT'],
  from: 'Wonderwall',
  example: 'WONDERWALL_SESSION_INACTIVITY=true WONDERWALL_SESSION_INACTIVITY_TIMEOUT=30m',
  note: 'on only with WONDERWALL_SESSION_INACTIVITY=true; the timeout then defaults to 30m, as in Wonderwall',
  compose: (get) => {
    const enabled = get('WONDERWALL_SESSION_INACTIVITY');
    if (enabled === undefined) return undefined;
    const on = goBool(enabled);
    if (on === undefined) return bad('WONDERWALL_SESSION_INACTIVITY must be true or false');
    return on ? ok(get('WONDERWALL_SESSION_INACTIVITY_TIMEOUT') ?? '30m') : undefined;
  },
};

/** Wonderwall's WONDERWALL_OPENID_SCOPES are extra scopes on top of its Entra defaults (comma-separated). */
const scopesFromWonderwall: CompositeAlias = {
  envs: ['WONDERWALL_OPENID_SCOPES'],
  from: 'Wonderwall',
  example: 'WONDERWALL_OPENID_SCOPES=User.Read',
  note: "extra scopes, added to Wonderwall's Entra defaults (openid offline_access api://<client id>/.default)",
  compose: (get) => {
    const extra = get('WONDERWALL_OPENID_SCOPES');
    if (extra === undefined) return undefined;
    const clientId =
      get('AZURE_APP_CLIENT_ID') ?? get('WONDERWALL_OPENID_CLIENT_ID') ?? get('AZURE_CLIENT_ID') ?? '<client id>';
    const scopes = ['openid', 'offline_access', `api://${clientId}/.default`];
    for (const s of extra.split(/[,\s]+/).filter(Boolean)) if (!scopes.includes(s)) scopes.push(s);
    return ok(scopes.join(' '));
  },
};

/** Texas: without AZURE_APP_WELL_KNOWN_URL the metadata is found from the issuer (OpenID Connect Discovery §4). */
const wellKnownFromIssuer: CompositeAlias = {
  envs: ['AZURE_OPENID_CONFIG_ISSUER'],
  from: 'Texas',
  example: 'AZURE_OPENID_CONFIG_ISSUER=https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0',
  note: 'derived as <issuer>/.well-known/openid-configuration when AZURE_APP_WELL_KNOWN_URL is unset',
  compose: (get) => {
    const issuer = get('AZURE_OPENID_CONFIG_ISSUER');
    return issuer === undefined ? undefined : ok(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  },
};

/** Where Azure Workload Identity's webhook points a pod when AZURE_AUTHORITY_HOST is unset (the public cloud). */
const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com/';

/** Workload identity: the tenant's discovery URL from AZURE_TENANT_ID and AZURE_AUTHORITY_HOST, as MSAL builds it. */
const wellKnownFromTenant: CompositeAlias = {
  envs: ['AZURE_TENANT_ID', 'AZURE_AUTHORITY_HOST'],
  from: 'Workload identity',
  example:
    'AZURE_TENANT_ID=77678b69-1daf-47b6-9072-771d270ac800 AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/',
  note: `derived as <host><tenant>/v2.0/.well-known/openid-configuration when AZURE_APP_WELL_KNOWN_URL is unset; the host defaults to ${DEFAULT_AUTHORITY_HOST}`,
  compose: (get) => {
    const tenant = get('AZURE_TENANT_ID')?.trim();
    const host = get('AZURE_AUTHORITY_HOST')?.trim();
    if (tenant === undefined) {
      return host === undefined ? undefined : bad('AZURE_TENANT_ID must be set when AZURE_AUTHORITY_HOST is');
    }
    // Labels, not just the characters: "." or ".." would drop out of the URL's path, leaving no tenant in it.
    if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(tenant))
      return bad('AZURE_TENANT_ID must be a tenant id (GUID) or domain');
    // Only a scheme, host and path go in front of the tenant: a query, fragment or credentials would swallow
    // or hide it (http and the loopback rule are judged on the whole URL, as for AZURE_APP_WELL_KNOWN_URL).
    if (host !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(host);
      } catch {
        u = undefined;
      }
      const bare = u?.search === '' && u.hash === '' && u.username === '' && u.password === '';
      if (!bare || /[?#]/.test(host))
        return bad(`AZURE_AUTHORITY_HOST must be an https:// host such as ${DEFAULT_AUTHORITY_HOST}`);
    }
    return ok(
      `${(host ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '')}/${tenant}/v2.0/.well-known/openid-configuration`,
    );
  },
};

/** logrus levels (Wonderwall) in pino's names. */
const logLevelFromLogrus = (raw: string): Parsed<string> => {
  const v = raw.trim().toLowerCase();
  const mapped = { panic: 'fatal', warning: 'warn' }[v] ?? v;
  return ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(mapped)
    ? ok(mapped)
    : bad('must be one of panic, fatal, error, warn, warning, info, debug, trace');
};

export const settings = {
  clientId: {
    env: 'AZURE_APP_CLIENT_ID',
    sameAs: ['Wonderwall', 'Texas'],
    aliases: [
      { env: 'WONDERWALL_OPENID_CLIENT_ID', from: 'Wonderwall' },
      { env: 'AZURE_CLIENT_ID', from: 'Workload identity' },
    ],
    group: 'Identity provider',
    description:
      'Client id of the Entra ID app registration (injected by NAIS; by the Azure Workload Identity webhook as AZURE_CLIENT_ID).',
    example: 'e89006c5-7193-4ca3-8e26-d0990d9d981f',
    parse: (raw) => (raw.trim() === '' ? bad('must not be empty') : ok(raw.trim())),
  } satisfies Setting<string>,
  wellKnownUrl: {
    env: 'AZURE_APP_WELL_KNOWN_URL',
    sameAs: ['Wonderwall', 'Texas'],
    aliases: [
      { env: 'WONDERWALL_OPENID_WELL_KNOWN_URL', from: 'Wonderwall' },
      wellKnownFromIssuer,
      wellKnownFromTenant,
    ],
    group: 'Identity provider',
    description:
      'OpenID Connect discovery document of the tenant. https is required; http only for a loopback host (local development and tests).',
    example:
      'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0/.well-known/openid-configuration',
    parse: idpUrl,
  } satisfies Setting<string>,
  jwk: {
    env: 'AZURE_APP_JWK',
    sameAs: ['Wonderwall', 'Texas'],
    aliases: [{ env: 'WONDERWALL_OPENID_CLIENT_JWK', from: 'Wonderwall' }],
    group: 'Identity provider',
    description:
      'Private JWK (JSON) used for private_key_jwt client authentication. Needs kid; alg defaults to RS256. Takes precedence over AZURE_APP_CLIENT_SECRET; cannot be combined with AZURE_FEDERATED_TOKEN_FILE.',
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
    aliases: [{ env: 'WONDERWALL_OPENID_CLIENT_SECRET', from: 'Wonderwall' }],
    group: 'Identity provider',
    description:
      'Client secret for client_secret_post, used only when AZURE_APP_JWK is not set; cannot be combined with AZURE_FEDERATED_TOKEN_FILE.',
    example: 'a-secret-from-the-app-registration',
    secret: true,
    parse: text,
  } satisfies Setting<string>,
  federatedTokenFile: {
    env: 'AZURE_FEDERATED_TOKEN_FILE',
    group: 'Identity provider',
    description:
      'Workload identity (AKS and other Kubernetes with Entra federation; injected by the Azure Workload Identity webhook): the projected service-account token, sent as the client assertion to a federated identity credential of the app registration. Read on every token request (the kubelet rotates it); no secret or key is needed. An absolute path, which must exist and be readable at start-up; its content is never logged. Cannot be combined with AZURE_APP_JWK or AZURE_APP_CLIENT_SECRET.',
    example: '/var/run/secrets/azure/tokens/azure-identity-token',
    parse: absolutePath,
  } satisfies Setting<string>,
  issuer: {
    env: 'AZURE_OPENID_CONFIG_ISSUER',
    sameAs: ['Texas'],
    group: 'Identity provider',
    description:
      "The tenant's issuer (injected by NAIS). Without AZURE_APP_WELL_KNOWN_URL the metadata is fetched from <issuer>/.well-known/openid-configuration; with both, start-up warns when discovery names another issuer.",
    example: 'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0',
    parse: idpUrl,
  } satisfies Setting<string>,
  jwksUri: {
    env: 'AZURE_OPENID_CONFIG_JWKS_URI',
    sameAs: ['Texas'],
    group: 'Identity provider',
    description:
      "The tenant's signing keys (injected by NAIS). Kept to check against discovery; the keys are fetched from the discovered jwks_uri.",
    example: 'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/discovery/v2.0/keys',
    parse: idpUrl,
  } satisfies Setting<string>,
  tokenEndpoint: {
    env: 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT',
    sameAs: ['Texas'],
    group: 'Identity provider',
    description:
      "The tenant's token endpoint (injected by NAIS). Kept to check against discovery, which also supplies the authorization and logout endpoints the login needs.",
    example: 'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/oauth2/v2.0/token',
    parse: idpUrl,
  } satisfies Setting<string>,
  tenantId: {
    env: 'AZURE_APP_TENANT_ID',
    sameAs: ['Texas'],
    aliases: [{ env: 'AZURE_TENANT_ID', from: 'Workload identity' }],
    group: 'Identity provider',
    description: 'Tenant id of the app registration (injected by NAIS); kept in the configuration.',
    example: '77678b69-1daf-47b6-9072-771d270ac800',
    parse: text,
  } satisfies Setting<string>,
  preAuthorizedApps: {
    env: 'AZURE_APP_PRE_AUTHORIZED_APPS',
    sameAs: ['Texas'],
    group: 'Identity provider',
    description:
      'The apps allowed to call this one (injected by NAIS from accessPolicy.inbound): a JSON array of {"name":"<cluster>:<namespace>:<app>","clientId":"<guid>"}.',
    example: '[{"name":"dev-gcp:team:caller","clientId":"0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e"}]',
    parse: preAuthorizedApps,
  } satisfies Setting<PreAuthorizedApp[]>,
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
    aliases: [scopesFromWonderwall],
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
    aliases: [{ env: 'WONDERWALL_INGRESS', from: 'Wonderwall', note: 'a trailing / is dropped, as by Wonderwall' }],
    group: 'Routing',
    description:
      "Comma-separated public base URLs of the app. The redirect URI is <ingress>/oauth2/callback and vestibule's routes live under each ingress path.",
    example: 'https://app.example.com,https://example.com/app',
    parse: list,
  } satisfies Setting<string[]>,
  upstream: {
    env: 'VESTIBULE_UPSTREAM',
    aliases: [upstreamFromWonderwall],
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
  sendTimeout: {
    env: 'VESTIBULE_SEND_TIMEOUT',
    group: 'Routing',
    description:
      "How long a client may take none of a proxied answer that waits for it before its connection is closed, as nginx's send_timeout: a client that stops reading must not hold a connection to the app. The kernel takes a slow reader's bytes in bursts as its receive window opens (roughly 1.5 MB at a time on loopback with Linux's default buffers), so the default cuts nothing that reads faster than roughly 25 KB/s; at least 5s.",
    default: '60s',
    example: '120s',
    parse: duration(5_000, 3_600_000),
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
    aliases: [{ env: 'WONDERWALL_AUTO_LOGIN', from: 'Wonderwall', convert: wonderwallBool }],
    group: 'Routing',
    description:
      'Require a session for every proxied request: browser navigations are redirected to login, other requests get 401 JSON with a login_url.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  autoLoginIgnorePaths: {
    env: 'VESTIBULE_AUTO_LOGIN_IGNORE_PATHS',
    aliases: [
      {
        env: 'WONDERWALL_AUTO_LOGIN_IGNORE_PATHS',
        from: 'Wonderwall',
        note: 'naiserator adds the prometheus, liveness and readiness paths',
      },
    ],
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
      'Comma-separated globs of paths that require a valid Entra access token for this app (a browser session\'s or Authorization: Bearer); others get 401 before reaching the app. Optionally per entry, space-separated: " roles=a|b" and/or " scopes=c|d" (any one of either), " groups=GROUP-OBJECT-ID|…" (member of any one), " callers=APP-NAME-OR-CLIENT-ID|…" (the token\'s azp), " acrs=c1" (a Conditional Access authentication context; a session without it logs in again). Every option of every matching entry must hold; see docs/authorization.md.',
    example: '/api/**,/api/admin/** roles=admin,/cases/** groups=2d7f1c9e-4b3a-4f0e-9c1d-6a5b4e3f2a10 acrs=c1',
    parse: tokenRules,
  } satisfies Setting<TokenRule[]>,
  forwardAuth: {
    env: 'VESTIBULE_FORWARD_AUTH',
    aliases: [{ env: 'WONDERWALL_SESSION_FORWARD_AUTH', from: 'Wonderwall', convert: wonderwallBool }],
    group: 'Routing',
    description:
      'Serve /oauth2/session/forwardauth for nginx auth_request, Traefik ForwardAuth and similar: 204 when logged in, 401 when not (403 and 503 as in docs/forward-auth.md). The token (Authorization: Bearer) is only answered on VESTIBULE_FORWARD_AUTH_BIND_ADDRESS, never on the public port.',
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  forwardAuthSetHeaders: {
    env: 'VESTIBULE_FORWARD_AUTH_SET_HEADERS',
    aliases: [{ env: 'WONDERWALL_SESSION_FORWARD_AUTH_SET_HEADERS', from: 'Wonderwall', convert: wonderwallBool }],
    group: 'Routing',
    description:
      "With VESTIBULE_FORWARD_AUTH: the forward-auth listener's 204 also carries the session's ID token as X-Wonderwall-Forward-Auth-Token (Wonderwall's session.forward-auth-set-headers), for ingress set-ups that copy it to the app. Never on the public port, where a page script could read it.",
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  upstreamIncludeIdToken: {
    env: 'VESTIBULE_UPSTREAM_INCLUDE_ID_TOKEN',
    aliases: [{ env: 'WONDERWALL_UPSTREAM_INCLUDE_ID_TOKEN', from: 'Wonderwall', convert: wonderwallBool }],
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
  forwardAuthBindAddress: {
    env: 'VESTIBULE_FORWARD_AUTH_BIND_ADDRESS',
    group: 'Listeners',
    description:
      "Forward-auth listener for the ingress controller's subrequest (needs VESTIBULE_FORWARD_AUTH=true): GET /oauth2/session/forwardauth answers 204 with Authorization: Bearer here, and only here. Unset: no such listener, and the public path answers a bare 204 (never a token). Never route it through the ingress: the browser must not reach it.",
    example: '0.0.0.0:7567',
    parse: address,
  } satisfies Setting<Address>,
  redisUrl: {
    env: 'VESTIBULE_REDIS_URL',
    aliases: [redisFromWonderwall],
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
    aliases: [
      {
        env: 'WONDERWALL_ENCRYPTION_KEY',
        from: 'Wonderwall',
        note: 'naiserator generates 32 random bytes, standard base64; sessions made by Wonderwall are not readable, users log in again',
      },
    ],
    group: 'Sessions',
    description:
      'Base64 of 32 random bytes (openssl rand -base64 32). Encrypts sessions and cookies; all replicas share it. Required unless VESTIBULE_DEVELOPMENT_MODE=true.',
    example: '$(openssl rand -base64 32)',
    secret: true,
    parse: (raw) => {
      const key = parseEncryptionKey(raw.trim());
      return typeof key === 'string' ? bad(key) : ok(key);
    },
  } satisfies Setting<Buffer>,
  encryptionKeyPrevious: {
    env: 'VESTIBULE_ENCRYPTION_KEY_PREVIOUS',
    group: 'Sessions',
    description:
      'Comma-separated previous encryption keys, for a rolling key rotation: sessions and cookies made with them stay valid and are re-sealed with the current key on their next write.',
    example: '<the key VESTIBULE_ENCRYPTION_KEY held before the rotation>',
    secret: true,
    parse: (raw) => {
      const parts = raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const keys: Buffer[] = [];
      for (const [i, part] of parts.entries()) {
        const key = parseEncryptionKey(part);
        if (typeof key === 'string') return bad(parts.length > 1 ? `key ${i + 1} of ${parts.length} ${key}` : key);
        keys.push(key);
      }
      return ok(keys);
    },
  } satisfies Setting<Buffer[]>,
  sessionMaxLifetime: {
    env: 'VESTIBULE_SESSION_MAX_LIFETIME',
    aliases: [{ env: 'WONDERWALL_SESSION_MAX_LIFETIME', from: 'Wonderwall' }],
    group: 'Sessions',
    description: 'Absolute lifetime of a session, whatever the activity.',
    default: '10h',
    example: '8h',
    parse: duration(60_000, 30 * 86_400_000),
  } satisfies Setting<number>,
  sessionInactivityTimeout: {
    env: 'VESTIBULE_SESSION_INACTIVITY_TIMEOUT',
    aliases: [inactivityFromWonderwall],
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
    aliases: [{ env: 'WONDERWALL_BIND_ADDRESS', from: 'Wonderwall' }],
    group: 'Listeners',
    description: 'Public listener: the login routes and the proxy.',
    default: '0.0.0.0:7564',
    example: '0.0.0.0:7564',
    parse: address,
  } satisfies Setting<Address>,
  adminBindAddress: {
    env: 'VESTIBULE_ADMIN_BIND_ADDRESS',
    aliases: [
      {
        env: 'WONDERWALL_METRICS_BIND_ADDRESS',
        from: 'Wonderwall',
        note: 'the metrics are at /metrics of this listener',
      },
    ],
    group: 'Listeners',
    description:
      'Admin listener: /healthz, /readyz and the Prometheus metrics at /metrics (open), and the operator endpoint DELETE /admin/users/:oid/sessions (only with VESTIBULE_ADMIN_TOKEN). Never exposed through the ingress. off turns it off.',
    default: '0.0.0.0:7565',
    example: '0.0.0.0:7565',
    parse: addressOrOff,
  } satisfies Setting<Address | null>,
  adminToken: {
    env: 'VESTIBULE_ADMIN_TOKEN',
    group: 'Listeners',
    description:
      'Bearer secret of the operator endpoints on the admin listener (DELETE /admin/users/:oid/sessions): callers send Authorization: Bearer <token>. Unset: the operator endpoints are off (404). At least 32 characters (openssl rand -base64 32); /healthz, /readyz and /metrics stay open.',
    example: '$(openssl rand -base64 32)',
    secret: true,
    parse: (raw) => {
      const v = raw.trim();
      if (v.length < 32) return bad('must be at least 32 characters (openssl rand -base64 32)');
      if (!/^[\x21-\x7e]+$/.test(v)) return bad('must be printable ASCII without spaces');
      return ok(v);
    },
  } satisfies Setting<string>,
  tokenBindAddress: {
    env: 'VESTIBULE_TOKEN_BIND_ADDRESS',
    aliases: [{ env: 'BIND_ADDRESS', from: 'Texas' }],
    group: 'Listeners',
    description:
      'Token API (Texas-compatible: token, token exchange, introspection). Loopback only: the app in the same pod calls it; never the public port. off turns it off.',
    default: '127.0.0.1:7164',
    example: '127.0.0.1:7164',
    parse: addressOrOff,
  } satisfies Setting<Address | null>,
  probeBindAddress: {
    env: 'VESTIBULE_PROBE_BIND_ADDRESS',
    aliases: [{ env: 'WONDERWALL_PROBE_BIND_ADDRESS', from: 'Wonderwall' }],
    group: 'Listeners',
    description:
      "Probe listener of the login proxy, as Wonderwall's: / and /healthz answer 200 once every listener is up (naiserator's startupProbe is GET /healthz on 7566), /readyz as on the admin listener. Off unless set (NAIS sets 0.0.0.0:7566).",
    example: '0.0.0.0:7566',
    parse: addressOrOff,
  } satisfies Setting<Address | null>,
  tokenProbeBindAddress: {
    env: 'VESTIBULE_TOKEN_PROBE_BIND_ADDRESS',
    aliases: [{ env: 'PROBE_BIND_ADDRESS', from: 'Texas' }],
    group: 'Listeners',
    description:
      "Probe listener of the token API, as Texas's: / and /healthz answer 200 once the token API is up (naiserator's startupProbe is GET /healthz on 7165), /readyz turns 503 on shutdown. Off unless set (NAIS sets 0.0.0.0:7165).",
    example: '0.0.0.0:7165',
    parse: addressOrOff,
  } satisfies Setting<Address | null>,
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
    aliases: [{ env: 'WONDERWALL_SHUTDOWN_GRACEFUL_PERIOD', from: 'Wonderwall' }],
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
    aliases: [{ env: 'WONDERWALL_LOG_LEVEL', from: 'Wonderwall', convert: logLevelFromLogrus, example: 'warning' }],
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
  otelServiceName: {
    env: 'OTEL_SERVICE_NAME',
    sameAs: ['Wonderwall', 'Texas'],
    aliases: [{ env: 'WONDERWALL_OTEL_SERVICE_NAME', from: 'Wonderwall' }],
    group: 'Operations',
    description:
      'OpenTelemetry service name of the exported spans (injected by NAIS); `vestibule` when unset. See docs/operations.md, Tracing.',
    example: 'wonderwall',
    parse: text,
  } satisfies Setting<string>,
  otelEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    sameAs: ['Wonderwall', 'Texas'],
    group: 'Operations',
    description:
      'OpenTelemetry collector (injected by NAIS). Set, vestibule exports trace spans there (docs/operations.md, Tracing); unset (and no OTEL_TRACES_EXPORTER), tracing is off and its code is not even loaded. The traces path /v1/traces is appended for http/protobuf.',
    example: 'http://opentelemetry-collector.nais-system:4317',
    parse: text,
  } satisfies Setting<string>,
  otelProtocol: {
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    sameAs: ['Wonderwall', 'Texas'],
    group: 'Operations',
    description:
      'OTLP protocol of the trace exporter (injected by NAIS): grpc or http/protobuf (http/json is accepted and sent as http/protobuf).',
    example: 'grpc',
    parse: (raw) => {
      const v = raw.trim();
      return ['grpc', 'http/protobuf', 'http/json'].includes(v)
        ? ok(v)
        : bad('must be grpc, http/protobuf or http/json');
    },
  } satisfies Setting<string>,
  otelInsecure: {
    env: 'OTEL_EXPORTER_OTLP_INSECURE',
    sameAs: ['Wonderwall', 'Texas'],
    group: 'Operations',
    description:
      'Whether the collector is reached without TLS (injected by NAIS), for grpc to an endpoint without a scheme. The scheme wins when there is one: http:// is plaintext, https:// always TLS (true never downgrades it: the headers would go in clear).',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  otelResourceAttributes: {
    env: 'OTEL_RESOURCE_ATTRIBUTES',
    sameAs: ['Wonderwall', 'Texas'],
    group: 'Operations',
    description:
      'OpenTelemetry resource attributes of the exported spans, key=value pairs, values %-encoded (injected by NAIS). OTEL_SERVICE_NAME wins over a service.name here.',
    example: 'service.name=wonderwall,service.namespace=team,wonderwall.upstream.name=app',
    parse: keyValues,
  } satisfies Setting<Record<string, string>>,
  otelTracesExporter: {
    env: 'OTEL_TRACES_EXPORTER',
    group: 'Operations',
    description:
      'otlp turns tracing on even without OTEL_EXPORTER_OTLP_ENDPOINT (then http://localhost:4318, or :4317 for grpc); none turns it off even with one.',
    example: 'none',
    parse: (raw) => {
      const v = raw.trim();
      return v === 'otlp' || v === 'none' ? ok(v) : bad('must be otlp or none');
    },
  } satisfies Setting<string>,
  otelTracesEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    group: 'Operations',
    description:
      'The collector for traces only, used as given (no /v1/traces appended); wins over OTEL_EXPORTER_OTLP_ENDPOINT and turns tracing on.',
    example: 'http://otel-collector:4318/v1/traces',
    parse: text,
  } satisfies Setting<string>,
  otelHeaders: {
    env: 'OTEL_EXPORTER_OTLP_HEADERS',
    group: 'Operations',
    description:
      'Headers sent with every trace export, key=value pairs, values %-encoded (e.g. a collector API key). Sent as HTTP headers (keys: RFC 9110 tokens; values once decoded: no line breaks or control characters), or with OTEL_EXPORTER_OTLP_PROTOCOL=grpc as metadata (keys of letters, digits, _ . - not ending in -bin; values of printable ASCII once decoded); with tracing on, an entry that cannot be sent stops start-up (named by position, never shown).',
    example: 'x-api-key=make-one-at-the-collector',
    secret: true,
    parse: keyValues,
  } satisfies Setting<Record<string, string>>,
  otelTracesHeaders: {
    env: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    group: 'Operations',
    description:
      'Headers for trace exports only, in the form of OTEL_EXPORTER_OTLP_HEADERS; the OpenTelemetry exporter reads it itself and sends it over that one. Checked by the same rules: an entry that cannot be sent stops start-up (named by position, never shown).',
    example: 'x-api-key=make-one-at-the-collector',
    secret: true,
    parse: keyValues,
  } satisfies Setting<Record<string, string>>,
  otelTracesSampler: {
    env: 'OTEL_TRACES_SAMPLER',
    group: 'Operations',
    description:
      "Which requests are traced: always_on, always_off, traceidratio, or parentbased_ (the caller's traceparent decides when it has one) of each.",
    default: 'parentbased_always_on',
    example: 'parentbased_traceidratio',
    parse: (raw) => {
      const v = raw.trim();
      return /^(parentbased_)?(always_on|always_off|traceidratio)$/.test(v)
        ? ok(v)
        : bad('must be always_on, always_off, traceidratio or one of them prefixed parentbased_');
    },
  } satisfies Setting<string>,
  otelTracesSamplerArg: {
    env: 'OTEL_TRACES_SAMPLER_ARG',
    group: 'Operations',
    description: 'The ratio of traces kept by the traceidratio samplers, 0 to 1.',
    default: '1',
    example: '0.1',
    parse: (raw) => {
      const v = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(v) && v >= 0 && v <= 1 ? ok(v) : bad('must be a number from 0 to 1');
    },
  } satisfies Setting<number>,
  otelBatchDelay: {
    env: 'OTEL_BSP_SCHEDULE_DELAY',
    group: 'Operations',
    description: 'Milliseconds between two exports of finished spans (batched, at most 512 a batch, 2048 queued).',
    default: '5000',
    example: '1000',
    parse: (raw) => {
      const v = Number(raw.trim());
      return /^\d+$/.test(raw.trim()) && v >= 1 && v <= 600_000 ? ok(v) : bad('must be milliseconds, 1 to 600000');
    },
  } satisfies Setting<number>,
  podName: {
    env: 'NAIS_POD_NAME',
    sameAs: ['Texas'],
    group: 'Operations',
    description: 'Name of the pod (injected by NAIS for Texas); kept for the OpenTelemetry resource.',
    example: 'app-7d9f8b6c5-x2x9q',
    parse: text,
  } satisfies Setting<string>,
  acrValues: {
    env: 'VESTIBULE_ACR_VALUES',
    aliases: [
      {
        env: 'WONDERWALL_OPENID_ACR_VALUES',
        from: 'Wonderwall',
        note: 'sent as acr_values, also to Entra (whose discovery lists none); not enforced on every request as Wonderwall does (docs/step-up.md)',
      },
    ],
    group: 'Identity provider',
    description:
      "Default `acr_values` of every login (space-separated), sent to Entra even though its discovery document lists none; `/oauth2/login?level=` replaces it for one login. Not enforced on requests as Wonderwall does: Entra's v2 tokens carry authentication contexts in `acrs` (see docs/step-up.md).",
    example: 'urn:example:mfa',
    parse: acrValues,
  } satisfies Setting<string>,
  clientCapabilities: {
    env: 'VESTIBULE_CLIENT_CAPABILITIES',
    group: 'Identity provider',
    description:
      'Client capabilities declared at login in the `claims` parameter (`access_token.xms_cc`). `cp1` tells Entra that vestibule handles claims challenges, so a CAE-enabled resource may get long-lived tokens and answer `insufficient_claims` when access must be re-evaluated (docs/step-up.md).',
    example: 'cp1',
    parse: clientCapabilities,
  } satisfies Setting<string[]>,
  // Authorization at the edge (docs/authorization.md).
  graphUrl: {
    env: 'VESTIBULE_GRAPH_URL',
    group: 'Identity provider',
    description:
      "Microsoft Graph's base URL, asked for a user's groups when Entra leaves them out of the token (groups overage) and a VESTIBULE_REQUIRE_TOKEN_PATHS rule names groups. Needs the GroupMember.Read.All application permission. https:// (http:// only for localhost).",
    default: 'https://graph.microsoft.com',
    example: 'https://graph.microsoft.com',
    parse: (raw) => {
      const u = idpUrl(raw);
      return u.ok ? ok(u.value.replace(/\/+$/, '')) : u;
    },
  } satisfies Setting<string>,
  groupsCacheTtl: {
    env: 'VESTIBULE_GROUPS_CACHE_TTL',
    group: 'Identity provider',
    description:
      "How long groups looked up in Microsoft Graph (overage) are kept, for a bearer caller (never past its token's expiry) and a browser session (never past its end) alike: a user removed from a group stops passing groups= rules within it.",
    default: '5m',
    example: '2m',
    parse: duration(1_000, 3_600_000),
  } satisfies Setting<number>,
  skipAuthPreflight: {
    env: 'VESTIBULE_SKIP_AUTH_PREFLIGHT',
    group: 'Routing',
    description:
      "Forward CORS preflights (OPTIONS with Origin and Access-Control-Request-Method, and without Authorization, a body or a method-override header) to the app without authentication and without any token, as oauth2-proxy's skip-auth-preflight: a browser sends no credentials on a preflight, so a protected API could not be called cross-origin otherwise.",
    default: 'false',
    example: 'true',
    parse: bool,
  } satisfies Setting<boolean>,
  allowedTenants: {
    env: 'VESTIBULE_ALLOWED_TENANTS',
    group: 'Identity provider',
    description:
      'Multi-tenant apps only (AZURE_APP_WELL_KNOWN_URL of the organizations or common endpoint): comma-separated tenant ids whose tokens and logins are accepted. Required, and non-empty, in that mode; ignored otherwise.',
    example: '77678b69-1daf-47b6-9072-771d270ac800,0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e',
    parse: (raw) => {
      const ids = entries(raw).map((id) => id.toLowerCase());
      const notGuid = ids.find((id) => !isGuid(id));
      if (notGuid !== undefined) return bad(`entry ${JSON.stringify(notGuid)} is not a tenant id (GUID)`);
      return ids.length > 0 ? ok(ids) : bad('must list at least one tenant id');
    },
  } satisfies Setting<string[]>,
};

export type SettingKey = keyof typeof settings;
export const allSettings: readonly Setting<unknown>[] = Object.values(settings);

/**
 * The settings by group, each group once, in the order of its first setting (a setting declared away from its
 * group's others still lands under the one heading in --help and docs/configuration.md).
 */
export function settingsByGroup(): [Setting<unknown>['group'], Setting<unknown>[]][] {
  const groups = new Map<Setting<unknown>['group'], Setting<unknown>[]>();
  for (const s of allSettings) {
    const list = groups.get(s.group) ?? [];
    list.push(s);
    groups.set(s.group, list);
  }
  return [...groups];
}

/**
 * A peer's variable that vestibule accepts and ignores, with the reason. `check` answers for the values that
 * ask for something vestibule does not do: a start-up warning, or a refusal when ignoring it would weaken
 * the protection the app relies on.
 */
export interface IgnoredVariable {
  readonly env: string;
  readonly from: Peer;
  readonly reason: string;
  readonly check?: (raw: string) => { readonly level: 'warn' | 'refuse'; readonly problem: string } | undefined;
}

const whenTrue =
  (problem: string) =>
  (raw: string): { level: 'warn'; problem: string } | undefined =>
    goBool(raw) === true ? { level: 'warn', problem } : undefined;
const whenSet =
  (problem: string) =>
  (raw: string): { level: 'warn'; problem: string } | undefined =>
    raw.trim() !== '' ? { level: 'warn', problem } : undefined;

/** Variables of the peers' that no setting reads, each with why (docs/migrating.md lists them as dropped). */
export const ignoredVariables: readonly IgnoredVariable[] = [
  {
    env: 'WONDERWALL_OPENID_PROVIDER',
    from: 'Wonderwall',
    reason: 'vestibule logs in with Entra ID only: azure is the one value accepted',
    check: (raw) =>
      raw.trim() === 'azure'
        ? undefined
        : { level: 'refuse', problem: 'must be azure: vestibule logs in with Entra ID only' },
  },
  {
    env: 'WONDERWALL_OPENID_UI_LOCALES',
    from: 'Wonderwall',
    reason: 'no default ui_locales; /oauth2/login?locale= still passes one (ID-porten only)',
    check: whenSet('is ignored: no default ui_locales (use /oauth2/login?locale=)'),
  },
  {
    env: 'WONDERWALL_OPENID_AUDIENCES',
    from: 'Wonderwall',
    reason: 'the ID token must be for this client id alone',
    check: whenSet('is ignored: the ID token must be for AZURE_APP_CLIENT_ID alone'),
  },
  {
    env: 'WONDERWALL_OPENID_DOMAIN_HINT',
    from: 'Wonderwall',
    reason: 'no default domain_hint; /oauth2/login?domain_hint= still passes one',
    check: whenSet('is ignored: no default domain_hint (use /oauth2/login?domain_hint=)'),
  },
  {
    env: 'WONDERWALL_OPENID_RESOURCE_INDICATOR',
    from: 'Wonderwall',
    reason: 'not supported (ID-porten)',
    check: whenSet('is ignored: no resource indicator is sent'),
  },
  {
    env: 'WONDERWALL_OPENID_POST_LOGOUT_REDIRECT_URI',
    from: 'Wonderwall',
    reason: 'logout ends at /oauth2/logout/callback on the ingress',
    check: whenSet('is ignored: logout returns to the ingress'),
  },
  {
    env: 'WONDERWALL_OPENID_JWKS_FALLBACK_ALG',
    from: 'Wonderwall',
    reason: "Entra's keys are used with RS256, as its tokens are signed",
  },
  {
    env: 'WONDERWALL_OPENID_NEW_CLIENT_AUTH_JWT_TYPE',
    from: 'Wonderwall',
    reason: 'client assertions are typed JWT, as Entra expects',
  },
  {
    env: 'WONDERWALL_UPSTREAM_ACCESS_LOGS',
    from: 'Wonderwall',
    reason: 'vestibule always writes one access line per request',
  },
  {
    env: 'WONDERWALL_LOG_FORMAT',
    from: 'Wonderwall',
    reason: 'logs are always JSON lines',
    check: (raw) =>
      raw.trim() === 'json' ? undefined : { level: 'warn', problem: 'is ignored: logs are always JSON lines' },
  },
  {
    env: 'WONDERWALL_SHUTDOWN_WAIT_BEFORE_PERIOD',
    from: 'Wonderwall',
    reason: 'on SIGTERM readiness turns 503 at once and in-flight requests drain for VESTIBULE_SHUTDOWN_TIMEOUT',
    check: (raw) =>
      ['', '0', '0s'].includes(raw.trim())
        ? undefined
        : { level: 'warn', problem: 'is ignored: there is no wait before draining' },
  },
  {
    env: 'WONDERWALL_PPROF_ENABLED',
    from: 'Wonderwall',
    reason: 'no profiler endpoints',
    check: whenTrue('is ignored: no profiler endpoints'),
  },
  { env: 'WONDERWALL_COOKIE_PREFIX', from: 'Wonderwall', reason: "vestibule's cookies have their own names" },
  { env: 'WONDERWALL_COOKIE_SAME_SITE', from: 'Wonderwall', reason: 'the session cookie is always SameSite=Lax' },
  {
    env: 'WONDERWALL_COOKIE_SECURE',
    from: 'Wonderwall',
    reason: 'cookies are Secure on https ingresses (http only for localhost)',
  },
  {
    env: 'WONDERWALL_REDIS_CONNECTION_IDLE_TIMEOUT',
    from: 'Wonderwall',
    reason: 'set by NAIS (299 s); ioredis reconnects when the server closes an idle connection',
  },
  { env: 'WONDERWALL_RATELIMIT_ENABLED', from: 'Wonderwall', reason: 'the login rate limit is built in' },
  { env: 'WONDERWALL_RATELIMIT_LOGINS', from: 'Wonderwall', reason: 'the login rate limit is built in' },
  { env: 'WONDERWALL_RATELIMIT_WINDOW', from: 'Wonderwall', reason: 'the login rate limit is built in' },
  {
    env: 'WONDERWALL_SSO_ENABLED',
    from: 'Wonderwall',
    reason: 'SSO server/proxy mode (ID-porten) is not supported',
    check: (raw) =>
      goBool(raw) === true
        ? { level: 'refuse', problem: 'is not supported: vestibule runs standalone (one client per app)' }
        : undefined,
  },
  ...[
    'WONDERWALL_SSO_MODE',
    'WONDERWALL_SSO_DOMAIN',
    'WONDERWALL_SSO_SESSION_COOKIE_NAME',
    'WONDERWALL_SSO_SERVER_URL',
    'WONDERWALL_SSO_SERVER_DEFAULT_REDIRECT_URL',
  ].map((env): IgnoredVariable => ({ env, from: 'Wonderwall', reason: 'SSO mode is not supported' })),
  {
    env: 'WONDERWALL_OTEL_ENABLED',
    from: 'Wonderwall',
    reason: 'tracing is on whenever OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER=otlp) is set',
  },
  {
    env: 'WONDERWALL_ERROR_PATH',
    from: 'Wonderwall',
    reason: 'removed from Wonderwall; older naiserator set it. Errors are answered by vestibule',
  },
  {
    env: 'AZURE_ENABLED',
    from: 'Texas',
    reason: 'the token API always serves entra_id',
    check: (raw) =>
      goBool(raw) === false
        ? { level: 'warn', problem: 'is ignored: the token API always serves entra_id' }
        : undefined,
  },
  ...['IDPORTEN_ENABLED', 'MASKINPORTEN_ENABLED', 'TOKEN_X_ENABLED'].map((env): IgnoredVariable => ({
    env,
    from: 'Texas',
    reason: 'the token API serves entra_id only',
    check: whenTrue('is ignored: the token API serves entra_id only'),
  })),
  ...[
    'TEXAS_HTTP_MAX_RETRIES',
    'TEXAS_HTTP_CONNECT_TIMEOUT_MILLIS',
    'TEXAS_HTTP_READ_TIMEOUT_MILLIS',
    'TEXAS_HTTP_OVERALL_TIMEOUT_MILLIS',
    'TEXAS_HTTP_POOL_MAX_IDLE',
  ].map((env): IgnoredVariable => ({
    env,
    from: 'Texas',
    reason: "vestibule's calls to Entra have their own timeouts and retries",
  })),
  ...['DOWNSTREAM_APP_NAME', 'DOWNSTREAM_APP_NAMESPACE', 'DOWNSTREAM_APP_CLUSTER'].map((env): IgnoredVariable => ({
    env,
    from: 'Texas',
    reason: 'set by older naiserator; not used',
  })),
  ...[
    'AZURE_APP_JWKS',
    'AZURE_APP_NEXT_JWK',
    'AZURE_APP_NEXT_CLIENT_SECRET',
    'AZURE_APP_CERTIFICATE_KEY_ID',
    'AZURE_APP_NEXT_CERTIFICATE_KEY_ID',
    'AZURE_APP_PASSWORD_KEY_ID',
    'AZURE_APP_NEXT_PASSWORD_KEY_ID',
  ].map((env): IgnoredVariable => ({
    env,
    from: 'Texas',
    reason: 'in the azurerator secret; only the current AZURE_APP_JWK is used',
  })),
];

/** Prefixes of the peers' own variables: an unknown one is reported at start-up (a typo must not pass silently). */
export const peerPrefixes: readonly string[] = ['WONDERWALL_', 'TEXAS_'];

/** A setting's aliases as text, e.g. `WONDERWALL_UPSTREAM_IP + WONDERWALL_UPSTREAM_PORT (Wonderwall)`. */
export const aliasNames = (s: Setting<unknown>): string[] =>
  (s.aliases ?? []).map((a) => `${isComposite(a) ? a.envs.join(' + ') : a.env} (${a.from})`);
