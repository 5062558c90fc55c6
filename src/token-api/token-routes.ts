import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, isVestibuleError } from '../errors/registry.js';
import type { IdentityProvider } from '../oidc/provider.js';
import { TokenApiError } from './api-error.js';
import { identityProviderOf } from './identity-provider.js';
import { TEXAS_LEEWAY_SEC } from './introspect-route.js';
import { requestBody } from './request-body.js';
import { targetToScope } from './target.js';
import { spanOf } from '../tracing/request-spans.js';
import { exchangeCacheKey, tokenCacheKey, type ServedToken, type TokenCache } from './token-cache.js';

export interface TokenRoutesDeps {
  readonly provider: IdentityProvider;
  /** This app's client id: the audience a user token must have to be exchanged. */
  readonly clientId: string;
  /** Client-credentials tokens. */
  readonly tokens: TokenCache;
  /** On-behalf-of tokens; kept apart so a flood of users never evicts the app's own tokens. */
  readonly exchanges: TokenCache;
}

/** Texas' `TokenResponse`. */
interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

function tokenResponse(served: ServedToken): TokenResponse {
  return { access_token: served.accessToken, token_type: 'Bearer', expires_in: served.expiresIn };
}

function logServed(request: FastifyRequest, grant: string, scope: string, served: ServedToken): void {
  request.log.debug({ grant, target: scope, cache: served.shared ? 'hit' : 'miss' }, 'token served');
  const span = spanOf(request);
  span.setAttribute('vestibule.token.grant', grant);
  span.setAttribute('vestibule.token.target', scope);
  span.setAttribute('vestibule.token.cache', served.shared ? 'hit' : 'miss');
}

/**
 * `POST /api/v1/token` (client credentials) and `POST /api/v1/token/exchange` (on-behalf-of), Texas'
 * contract: `{identity_provider, target, resource?, authorization_details?, skip_cache?}` (`user_token` instead
 * of resource and details for the exchange) in, `{access_token,
 * token_type, expires_in}` out, answered from the cache when possible.
 */
export function registerTokenRoutes(app: FastifyInstance, d: TokenRoutesDeps): void {
  app.post('/api/v1/token', { config: { routeClass: 'token' } }, async (request, reply: FastifyReply) => {
    const body = requestBody(request.body);
    const provider = identityProviderOf(body);
    const scope = targetToScope(body.requiredString('target'));
    // Accepted and read as Texas does, and part of its cache key; Texas sends neither to Entra ID (its client
    // assertion for Entra carries no resource or authorization details), so neither do we.
    const resource = body.optionalString('resource');
    const details = body.optionalAuthorizationDetails('authorization_details');
    const skipCache = body.optionalBoolean('skip_cache');
    const served = await d.tokens.get(
      tokenCacheKey(provider, scope, resource, details),
      () => d.provider.clientCredentials(scope),
      skipCache,
    );
    logServed(request, 'client_credentials', scope, served);
    return reply.send(tokenResponse(served));
  });

  app.post('/api/v1/token/exchange', { config: { routeClass: 'token' } }, async (request, reply: FastifyReply) => {
    const body = requestBody(request.body);
    const provider = identityProviderOf(body);
    const scope = targetToScope(body.requiredString('target'));
    const userToken = body.requiredString('user_token');
    const skipCache = body.optionalBoolean('skip_cache');
    // Validated on every call, cache hit or not: an expired or foreign user token must never get a token back.
    await validateUserToken(d, userToken);
    const served = await d.exchanges.get(
      exchangeCacheKey(provider, scope, userToken),
      () => d.provider.onBehalfOf(userToken, scope),
      skipCache,
    );
    logServed(request, 'on_behalf_of', scope, served);
    return reply.send(tokenResponse(served));
  });
}

/**
 * The user token must be a user access token for this app. A bad one gets 400 `invalid_grant`, what Entra (and
 * so Texas) answers for the same assertion, so apps see no change; the description says why and names the field.
 */
async function validateUserToken(d: TokenRoutesDeps, userToken: string): Promise<void> {
  try {
    await d.provider.validator.validate(userToken, {
      audience: d.clientId,
      requireUser: true,
      leewaySec: TEXAS_LEEWAY_SEC,
    });
  } catch (err) {
    if (isVestibuleError(err) && err.code === 'TOKEN_INVALID') {
      throw new TokenApiError(
        'TOKEN_INVALID_USER_TOKEN',
        `${ErrorCodes.TOKEN_INVALID_USER_TOKEN.message}: ${err.detail ?? 'invalid'}`,
      );
    }
    throw err;
  }
}
