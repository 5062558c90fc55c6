import type { FastifyInstance } from 'fastify';
import { TokenInvalidError, type TokenProblem, type TokenValidator } from '../oidc/token-validator.js';
import { chooseProvider } from './identity-provider.js';
import { requestBody } from './request-body.js';

export interface IntrospectRouteDeps {
  readonly validator: TokenValidator;
  /** The audience an introspected token must have: this app's client id. */
  readonly clientId: string;
  /** AZURE_APP_PRE_AUTHORIZED_APPS: client id → `<cluster>:<namespace>:<app>`, reported as `azp_name`. */
  readonly callerNames?: ReadonlyMap<string, string> | undefined;
}

/** Texas' clock skew for exp, nbf and iat (`validation.leeway = 60` in its `src/oauth/token.rs`). */
export const TEXAS_LEEWAY_SEC = 60;

/** Texas' `IntrospectResponse`: all claims flattened next to `active`, or only `active:false` and why. */
export type IntrospectResponse = { readonly active: true; readonly [claim: string]: unknown } | InactiveResponse;

interface InactiveResponse {
  readonly active: false;
  readonly error: string;
}

/**
 * `POST /api/v1/introspect {identity_provider, token}`, as Texas answers it: 200 `{active:true, ...claims}` when
 * the token passes the shared validation (signature, issuer, audience = this app, times with Texas' 60 s
 * leeway, tenant, access token), with `azp_name` from AZURE_APP_PRE_AUTHORIZED_APPS when it lists the `azp`, else 200 `{active:false, error}` in Texas' words (see {@link texasError}); a
 * Texas provider that is not enabled here is 200 `{active:false, error:"identity provider 'X' is not enabled"}`.
 * A body Texas could not deserialize (unsupported media type, malformed JSON, missing `token`, unknown
 * provider) is 400 `invalid_request`, as there.
 */
export function registerIntrospectRoute(app: FastifyInstance, d: IntrospectRouteDeps): void {
  app.post('/api/v1/introspect', { config: { routeClass: 'token' } }, async (request) => {
    const body = requestBody(request.body);
    const provider = chooseProvider(body);
    const token = body.requiredString('token');
    const result: IntrospectResponse = provider.enabled
      ? await introspect(d, token)
      : { active: false, error: provider.error.description };
    request.log.debug({ active: result.active }, 'token introspected');
    return result;
  });
}

async function introspect(d: IntrospectRouteDeps, token: string): Promise<IntrospectResponse> {
  try {
    const claims: Record<string, unknown> = {
      ...(await d.validator.validate(token, {
        audience: d.clientId,
        requireAccessToken: true,
        leewaySec: TEXAS_LEEWAY_SEC,
      })),
    };
    // A token cannot speak for `active` through a claim of its own.
    delete claims.active;
    // The caller's name as this app's access policy knows it (NAIS apps log `azp_name`); a caller outside the
    // list keeps whatever azp_name Entra put in the token.
    const name = typeof claims.azp === 'string' ? d.callerNames?.get(claims.azp) : undefined;
    if (name !== undefined) claims.azp_name = name;
    return { active: true, ...claims };
  } catch (err) {
    if (err instanceof TokenInvalidError) return { active: false, error: texasError(err.problem, err.detail) };
    return { active: false, error: 'invalid token: could not be validated' };
  }
}

/**
 * Texas' `error` for a failed check (its `src/oauth/token.rs` errors, with jsonwebtoken's ErrorKind names as its
 * integration tests show them). Checks Texas does not make (tenant, access-token shape) keep our description.
 */
export function texasError(problem: TokenProblem, detail: string | undefined): string {
  switch (problem) {
    case 'malformed':
      return 'invalid token header: InvalidToken';
    case 'no_kid':
      return 'missing key id from token header';
    case 'unknown_key':
      return 'token can not be validated with this identity provider';
    case 'algorithm':
      return 'invalid token: InvalidAlgorithm';
    case 'issuer':
      return 'invalid token: InvalidIssuer';
    case 'audience':
      return 'invalid token: InvalidAudience';
    case 'expired':
      return 'invalid token: ExpiredSignature';
    case 'immature':
      return 'invalid token: ImmatureSignature';
    case 'signature':
      return 'invalid token: InvalidSignature';
    case 'other':
      return `invalid token: ${detail ?? 'could not be validated'}`;
    default:
      return `invalid token: Missing required claim: ${problem.slice('missing_'.length)}`;
  }
}
