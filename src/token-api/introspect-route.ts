import type { FastifyInstance } from 'fastify';
import { isVestibuleError } from '../errors/registry.js';
import type { TokenValidator } from '../oidc/token-validator.js';
import { TokenApiError } from './api-error.js';
import { identityProviderOf } from './identity-provider.js';
import { requestBody } from './request-body.js';

export interface IntrospectRouteDeps {
  readonly validator: TokenValidator;
  /** The audience an introspected token must have: this app's client id. */
  readonly clientId: string;
}

/** Texas' `IntrospectResponse`: all claims flattened next to `active`, or only `active:false` and why. */
export type IntrospectResponse = { readonly active: true; readonly [claim: string]: unknown } | InactiveResponse;

interface InactiveResponse {
  readonly active: false;
  readonly error: string;
}

/**
 * `POST /api/v1/introspect {identity_provider, token}`: always 200, `{active:true, ...claims}` when the token
 * passes the shared validation (signature, issuer, audience = this app, times, tenant), else
 * `{active:false, error}`. As in Texas only the standard claims are checked: authorization is the app's job.
 * A body that cannot be read at all (unsupported media type, malformed JSON) still gets 400 `invalid_request`.
 */
export function registerIntrospectRoute(app: FastifyInstance, d: IntrospectRouteDeps): void {
  app.post('/api/v1/introspect', { config: { routeClass: 'token' } }, async (request) => {
    const body = requestBody(request.body);
    const result = await introspect(d, () => {
      identityProviderOf(body);
      return body.requiredString('token');
    });
    request.log.debug({ active: result.active }, 'token introspected');
    return result;
  });
}

async function introspect(d: IntrospectRouteDeps, read: () => string): Promise<IntrospectResponse> {
  let token: string;
  try {
    token = read();
  } catch (err) {
    if (err instanceof TokenApiError) return { active: false, error: err.body.error_description };
    throw err;
  }
  try {
    const claims: Record<string, unknown> = {
      ...(await d.validator.validate(token, { audience: d.clientId, requireAccessToken: true })),
    };
    // A token cannot speak for `active` through a claim of its own.
    delete claims.active;
    return { active: true, ...claims };
  } catch (err) {
    const why = isVestibuleError(err) && err.code === 'TOKEN_INVALID' ? err.detail : undefined;
    return { active: false, error: `invalid token: ${why ?? 'could not be validated'}` };
  }
}
