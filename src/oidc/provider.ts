import * as client from 'openid-client';
import type { ClientAuthConfig } from '../config/load.js';
import { IdpResponseError, VestibuleError } from '../errors/registry.js';
import { createClientAuth } from './client-auth.js';
import { readFederatedToken } from './federated-token.js';
import { JwksCache } from './jwks.js';
import { TENANT_TEMPLATE, TokenValidator } from './token-validator.js';

/** What a token endpoint gave back, reduced to what vestibule uses. */
export interface TokenResult {
  readonly accessToken: string;
  /** Seconds until the access token expires, as the identity provider said. */
  readonly expiresIn: number;
  readonly refreshToken: string | undefined;
  readonly idToken: string | undefined;
}

export interface AuthorizationRequest {
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeChallenge: string;
  /** Extra parameters passed through (prompt, domain_hint, ui_locales, acr_values …). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface ProviderMetadata {
  readonly issuer: string;
  readonly endSessionEndpoint: string | undefined;
  readonly tokenEndpoint: string;
  readonly acrValuesSupported: readonly string[];
  readonly uiLocalesSupported: readonly string[];
}

/**
 * The seam between vestibule and the identity provider: every call to Entra goes through here, so the real
 * provider and a test double fit the same hole, and the token API reuses the login's client authentication.
 */
export interface IdentityProvider {
  readonly metadata: ProviderMetadata;
  readonly validator: TokenValidator;
  authorizationUrl(request: AuthorizationRequest): URL;
  /** Redeems the code of `callbackUrl` after checking state (and `iss` when advertised); validates the ID token. */
  redeemCode(
    callbackUrl: URL,
    checks: { verifier: string; state: string; nonce: string },
  ): Promise<{ tokens: TokenResult; claims: Record<string, unknown> }>;
  refresh(refreshToken: string): Promise<TokenResult>;
  clientCredentials(scope: string): Promise<TokenResult>;
  onBehalfOf(userToken: string, scope: string): Promise<TokenResult>;
  endSessionUrl(params: Readonly<Record<string, string>>): URL | undefined;
  close(): void;
}

export interface ProviderOptions {
  readonly wellKnownUrl: string;
  readonly clientId: string;
  readonly clientAuth: ClientAuthConfig;
  readonly assertionAudience: 'issuer' | 'token_endpoint';
  /** Only for an http:// identity provider on loopback (development and tests). */
  readonly allowInsecure: boolean;
  readonly timeoutSec?: number;
  readonly leewaySec?: number;
  readonly fetch?: typeof fetch;
  /** VESTIBULE_ALLOWED_TENANTS: needed (non-empty) for a multi-tenant (organizations/common) discovery URL. */
  readonly allowedTenants?: readonly string[] | undefined;
}

/** Discovers the provider, loads its keys and returns the {@link IdentityProvider}. */
export async function discoverProvider(o: ProviderOptions): Promise<IdentityProvider> {
  const timeout = o.timeoutSec ?? 10;
  if (o.clientAuth.method === 'federated_token_file') {
    // Checked before the network: a missing token file is a deployment mistake that waiting does not heal.
    await readFederatedToken(o.clientAuth.tokenFile).catch((err: unknown) => {
      const detail = err instanceof VestibuleError ? (err.detail ?? err.message) : String(err);
      throw new DiscoveryError('CONFIG_INVALID', detail, false, { cause: err });
    });
  }
  const baseFetch = o.fetch ?? fetch;
  // Never follow redirects on credential-bearing requests; bound every call.
  const idpFetch: client.CustomFetch = (url, init) =>
    baseFetch(url, { ...init, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(timeout * 1000) });
  // Deprecated on purpose by openid-client to stand out: only for an http:// IdP on loopback (config enforces it).
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const execute = o.allowInsecure ? [client.allowInsecureRequests] : [];
  // The client authentication needs the discovered token endpoint (private_key_jwt's audience), so discovery
  // gets one that calls it once it exists: a single discovery keeps openid-client's Entra handling (a
  // multi-tenant ID token's issuer resolved from its tid), which a Configuration built from the metadata loses.
  // Typed as returning what it returns: openid-client awaits a ClientAuth's promise (the federated token file's).
  const deferred: { auth?: (...args: Parameters<client.ClientAuth>) => unknown } = {};
  const deferredAuth: client.ClientAuth = (...args) => {
    if (deferred.auth === undefined) throw new TypeError('client authentication used before discovery completed');
    return deferred.auth(...args);
  };
  let config: client.Configuration;
  try {
    config = await client.discovery(
      new URL(o.wellKnownUrl),
      o.clientId,
      { [client.clockTolerance]: o.leewaySec ?? 5 },
      deferredAuth,
      { execute, timeout, [client.customFetch]: idpFetch },
    );
  } catch (err) {
    throw discoveryError(o.wellKnownUrl, err, timeout);
  }
  const meta = config.serverMetadata();
  const multiTenant = meta.issuer.includes(TENANT_TEMPLATE);
  if (multiTenant && (o.allowedTenants ?? []).length === 0) {
    throw new VestibuleError(
      'CONFIG_INVALID',
      'a multi-tenant (common/organizations) discovery URL without VESTIBULE_ALLOWED_TENANTS; use the tenant id, or list the tenants to accept',
    );
  }
  if (!meta.token_endpoint || !meta.jwks_uri || !meta.authorization_endpoint) {
    throw new DiscoveryError(
      'IDP_UNAVAILABLE',
      `the discovery document at ${shownUrl(o.wellKnownUrl)} lacks the authorization, token or JWKS endpoint`,
      false,
    );
  }
  deferred.auth = await createClientAuth(o.clientAuth, o.assertionAudience, meta.token_endpoint);

  const jwks = new JwksCache({
    jwksUri: meta.jwks_uri,
    fetch: (url) => idpFetch(url, { method: 'GET', headers: {} } as never),
  });
  await jwks.load().catch((err: unknown) => {
    const d = describeFetchFailure(err, timeout);
    throw new DiscoveryError(
      'IDP_UNAVAILABLE',
      `the JWKS at ${shownUrl(meta.jwks_uri ?? '')} ${d.cause}`,
      d.retryable,
      {
        cause: err,
      },
    );
  });
  const validator = new TokenValidator({
    issuer: meta.issuer,
    allowedTenants: o.allowedTenants,
    jwks,
    leewaySec: o.leewaySec ?? 5,
  });
  return new OpenIdProvider(config, validator, jwks, o.clientId);
}

/**
 * A failed discovery (or key load) at start-up, with its cause in words an operator can act on. `retryable`
 * is false for what waiting cannot heal (a 4xx, an answer that is not a discovery document): start-up stops at
 * once instead of retrying.
 */
export class DiscoveryError extends VestibuleError {
  readonly retryable: boolean;
  constructor(
    code: 'IDP_UNAVAILABLE' | 'CONFIG_INVALID',
    detail: string,
    retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, detail, options);
    this.name = 'DiscoveryError';
    this.retryable = retryable;
  }
}

const TENANT_HINT =
  'check the tenant id in AZURE_APP_WELL_KNOWN_URL: https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration';

/** The URL without user info, query or fragment: enough to recognise it, nothing that could be a credential. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** The chain of causes of `err`, itself first (bounded: a cycle must not hang start-up). */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/**
 * What went wrong on the way to an identity-provider URL, from the error fetch or openid-client threw: the HTTP
 * status, the content type, the system error code (ECONNREFUSED, ENOTFOUND …) or a timeout — never a body.
 */
export function describeFetchFailure(
  err: unknown,
  timeoutSec: number,
): { cause: string; retryable: boolean; status?: number } {
  for (const e of causes(err)) {
    if (e instanceof Response) {
      const type = e.headers.get('content-type') ?? 'none';
      if (e.ok) {
        return {
          cause: `answered HTTP ${e.status} with content type ${type}, not a JSON discovery document`,
          retryable: false,
          status: e.status,
        };
      }
      const text = e.statusText ? ` ${e.statusText}` : '';
      // 408 and 429 are the client errors that waiting heals.
      const retryable = e.status >= 500 || e.status === 408 || e.status === 429;
      return { cause: `answered HTTP ${e.status}${text}`, retryable, status: e.status };
    }
  }
  for (const e of causes(err)) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { cause: `did not answer within ${timeoutSec} s`, retryable: true };
  }
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
      return { cause: `could not be reached (${code})`, retryable: true };
    }
  }
  const first = causes(err);
  const code = (first[0] as { code?: unknown } | undefined)?.code;
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || code === 'OAUTH_INVALID_RESPONSE') {
    return {
      cause: `answered a discovery document that does not fit (${(first[0] as Error).message})`,
      retryable: false,
    };
  }
  if (code === 'OAUTH_PARSE_ERROR' || first.some((e) => e instanceof SyntaxError)) {
    return { cause: 'answered a body that is not valid JSON', retryable: false };
  }
  const last = first[first.length - 1];
  return { cause: `failed (${last instanceof Error ? last.message : String(last)})`, retryable: true };
}

function discoveryError(wellKnownUrl: string, err: unknown, timeoutSec: number): DiscoveryError {
  const d = describeFetchFailure(err, timeoutSec);
  const where = `discovery at ${shownUrl(wellKnownUrl)}`;
  if (d.status !== undefined && d.status >= 400 && d.status < 500 && !d.retryable) {
    return new DiscoveryError('CONFIG_INVALID', `${where} ${d.cause}; ${TENANT_HINT}`, false, { cause: err });
  }
  if (!d.retryable) {
    return new DiscoveryError(
      'CONFIG_INVALID',
      `${where} ${d.cause}; is AZURE_APP_WELL_KNOWN_URL the tenant's OpenID configuration?`,
      false,
      { cause: err },
    );
  }
  return new DiscoveryError('IDP_UNAVAILABLE', `${where} ${d.cause}`, true, { cause: err });
}

class OpenIdProvider implements IdentityProvider {
  readonly metadata: ProviderMetadata;
  readonly validator: TokenValidator;
  readonly #config: client.Configuration;
  readonly #jwks: JwksCache;
  readonly #clientId: string;

  constructor(config: client.Configuration, validator: TokenValidator, jwks: JwksCache, clientId: string) {
    const m = config.serverMetadata();
    this.#config = config;
    this.#jwks = jwks;
    this.#clientId = clientId;
    this.validator = validator;
    this.metadata = {
      issuer: m.issuer,
      endSessionEndpoint: m.end_session_endpoint,
      tokenEndpoint: m.token_endpoint ?? '',
      acrValuesSupported: m.acr_values_supported ?? [],
      uiLocalesSupported: m.ui_locales_supported ?? [],
    };
    jwks.startRefreshing(() => undefined);
  }

  authorizationUrl(r: AuthorizationRequest): URL {
    return client.buildAuthorizationUrl(this.#config, {
      ...r.extra,
      redirect_uri: r.redirectUri,
      response_type: 'code',
      response_mode: 'query',
      scope: r.scope,
      state: r.state,
      nonce: r.nonce,
      code_challenge: r.codeChallenge,
      code_challenge_method: 'S256',
    });
  }

  async redeemCode(
    callbackUrl: URL,
    checks: { verifier: string; state: string; nonce: string },
  ): Promise<{ tokens: TokenResult; claims: Record<string, unknown> }> {
    const res = await this.#call('authorization_code', () =>
      client.authorizationCodeGrant(this.#config, callbackUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      }),
    );
    const tokens = toResult(res);
    if (!tokens.idToken) throw new VestibuleError('LOGIN_EXCHANGE_FAILED', 'no ID token in the token response');
    // openid-client checks the ID token's claims; the signature is checked here, with the same rules as every token.
    const claims = await this.validator.validate(tokens.idToken, { audience: this.#clientId, nonce: checks.nonce });
    return { tokens, claims };
  }

  async refresh(refreshToken: string): Promise<TokenResult> {
    return toResult(await this.#call('refresh_token', () => client.refreshTokenGrant(this.#config, refreshToken)));
  }

  async clientCredentials(scope: string): Promise<TokenResult> {
    return toResult(
      await this.#call('client_credentials', () => client.clientCredentialsGrant(this.#config, { scope })),
    );
  }

  async onBehalfOf(userToken: string, scope: string): Promise<TokenResult> {
    return toResult(
      await this.#call('on_behalf_of', () =>
        client.genericGrantRequest(this.#config, 'urn:ietf:params:oauth:grant-type:jwt-bearer', {
          assertion: userToken,
          scope,
          requested_token_use: 'on_behalf_of',
        }),
      ),
    );
  }

  endSessionUrl(params: Readonly<Record<string, string>>): URL | undefined {
    if (!this.metadata.endSessionEndpoint) return undefined;
    return client.buildEndSessionUrl(this.#config, params);
  }

  close(): void {
    this.#jwks.stop();
  }

  async #call<T>(grant: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw mapError(grant, err);
    }
  }
}

function toResult(r: client.TokenEndpointResponse): TokenResult {
  if (typeof r.expires_in !== 'number' || r.expires_in <= 0) {
    throw new VestibuleError('LOGIN_EXCHANGE_FAILED', 'token response has no positive expires_in');
  }
  return {
    accessToken: r.access_token,
    expiresIn: r.expires_in,
    refreshToken: r.refresh_token,
    idToken: r.id_token,
  };
}

/** Keeps an IdP's own answer (status, error, description, claims) apart from our failure to reach it. */
function mapError(grant: string, err: unknown): Error {
  if (err instanceof VestibuleError) return err;
  // Our own failure inside the client authentication (the federated token file), which openid-client wraps.
  if (err instanceof client.ClientError && err.cause instanceof VestibuleError) return err.cause;
  if (err instanceof client.ResponseBodyError) {
    const body = err.cause as { error?: unknown; error_description?: unknown; claims?: unknown };
    const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return new IdpResponseError(
      err.status,
      { error: err.error, error_description: s(body.error_description), claims: s(body.claims) },
      { cause: err },
    );
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // A 401 whose error is in a WWW-Authenticate challenge rather than the body: still the IdP's own answer.
    const params = err.cause.find((c) => typeof c.parameters.error === 'string')?.parameters;
    if (params?.error) {
      return new IdpResponseError(
        err.status,
        { error: params.error, error_description: params.error_description },
        { cause: err },
      );
    }
  }
  if (err instanceof client.AuthorizationResponseError) {
    return new VestibuleError('LOGIN_IDP_ERROR', err.error, { cause: err });
  }
  if (err instanceof client.ClientError) {
    const code = (err as { code?: string }).code;
    // Our own timeout or an aborted call: the IdP did not answer in time, which is not a failed login.
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT') {
      return new VestibuleError('IDP_UNAVAILABLE', `${grant}: the token endpoint did not answer in time`, {
        cause: err,
      });
    }
    if (
      code === 'OAUTH_INVALID_RESPONSE' ||
      code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' ||
      code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED'
    ) {
      return new VestibuleError('LOGIN_EXCHANGE_FAILED', `${grant}: ${err.message}`, { cause: err });
    }
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      return new VestibuleError('IDP_UNAVAILABLE', `${grant}: unexpected response`, { cause: err });
    }
    return new VestibuleError('LOGIN_EXCHANGE_FAILED', `${grant}: ${err.message}`, { cause: err });
  }
  return new VestibuleError('IDP_UNAVAILABLE', `${grant}: the token endpoint could not be reached`, { cause: err });
}

/** Something with fetch's `Headers`: a Response from whichever fetch the provider was given. */
function hasHeaders(v: unknown): v is { headers: Pick<Headers, 'get'> } {
  const headers = typeof v === 'object' && v !== null ? (v as { headers?: unknown }).headers : undefined;
  return typeof headers === 'object' && headers !== null && typeof (headers as Headers).get === 'function';
}

/**
 * The HTTP response behind a failed IdP call, if the error chain holds one: openid-client keeps it as
 * `response` (error bodies, challenges) or as the `cause` (an unexpected status without an OAuth body).
 */
function responseOf(err: unknown): { headers: Pick<Headers, 'get'> } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    if (hasHeaders(e)) return e;
    const response = (e as { response?: unknown }).response;
    if (hasHeaders(response)) return response;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * How long the identity provider asked us to wait (`Retry-After` on a 429, 503 …), in milliseconds; undefined
 * when it did not say. Delay-seconds or an HTTP date; a date is read against the response's own `Date` header
 * when it has one, so the IdP's clock and ours need not agree.
 */
export function retryAfterMs(err: unknown): number | undefined {
  const headers = responseOf(err)?.headers;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const sent = Date.parse(headers?.get('date') ?? '');
  return Math.max(0, at - (Number.isNaN(sent) ? Date.now() : sent));
}
