/**
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `requested_token_use=on_behalf_of`
 * (entra.md C.4): the assertion must be a user token this IdP issued for the calling app, still valid; the target
 * must be one resource that pre-authorized the caller. Issues a user token for the target, `azp` = caller.
 */
import type { JWTPayload } from 'jose';
import type { UserClaims } from '../claims.js';
import { nowSeconds } from '../context.js';
import { EntraError, missingParameter } from '../errors.js';
import { OIDC_SCOPES, isPreAuthorized, resolveScope, splitScope } from '../scopes.js';
import { issueUserAccessToken, tokenResponseBody } from '../token-issuer.js';
import { verifyOwnToken } from '../tokens.js';
import type { GrantHandler } from './grant-handler.js';

/** Entra accepts assertions whose `nbf` is this far in the future (seconds). */
const NBF_SKEW = 300;

function invalidAssertion(text: string): EntraError {
  return new EntraError('invalid_grant', 50013, `Assertion failed signature validation or is invalid: ${text}`);
}

/** The user claims carried by an incoming user token; throws when it is not one. */
export function userClaimsFromAssertion(payload: JWTPayload): UserClaims {
  if (payload.idtyp === 'app' || typeof payload.scp !== 'string') {
    throw invalidAssertion('the assertion is an app-only token; on-behalf-of requires a user token.');
  }
  const { oid, name, preferred_username: username, NAVident: navIdent, groups } = payload;
  if (typeof oid !== 'string') throw invalidAssertion(`the assertion has no 'oid' claim.`);
  return {
    oid,
    name: typeof name === 'string' ? name : '',
    preferred_username: typeof username === 'string' ? username : '',
    NAVident: typeof navIdent === 'string' ? navIdent : '',
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

export const onBehalfOfGrant: GrantHandler = async (ctx, form, caller) => {
  const use = form.get('requested_token_use');
  if (!use) throw missingParameter('requested_token_use');
  if (use !== 'on_behalf_of') {
    throw new EntraError(
      'invalid_request',
      70003,
      `requested_token_use '${use}' is not supported; use 'on_behalf_of'.`,
    );
  }
  const assertion = form.get('assertion');
  if (!assertion) throw missingParameter('assertion');
  const scope = form.get('scope');
  if (!scope) throw missingParameter('scope');
  const verified = await verifyOwnToken(assertion, ctx.keys, ctx.issuer);
  if (!verified.ok) throw invalidAssertion(`${verified.problem} check failed.`);
  const payload = verified.payload;
  const now = nowSeconds(ctx);
  if (typeof payload.exp !== 'number' || payload.exp <= now || (payload.nbf ?? 0) > now + NBF_SKEW) {
    throw new EntraError(
      'invalid_grant',
      500133,
      `Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: ${new Date(now * 1000).toISOString()}, expiry time of assertion ${new Date((payload.exp ?? 0) * 1000).toISOString()}.`,
    );
  }
  const callerId = caller.client.clientId;
  if (payload.aud !== callerId) {
    throw invalidAssertion(
      `the audience in the assertion was '${String(payload.aud)}' and the expected audience is '${callerId}'.`,
    );
  }
  const user = userClaimsFromAssertion(payload);
  if (splitScope(scope).every((s) => OIDC_SCOPES.has(s))) {
    throw new EntraError(
      'invalid_scope',
      70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${scope} names no resource.`,
    );
  }
  const resolved = resolveScope(scope, ctx.clients, 700022);
  if (!isPreAuthorized(resolved.target, callerId)) {
    throw new EntraError(
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${callerId}' named '${caller.client.name ?? callerId}'. Send an interactive authorization request for this user and resource.`,
    );
  }
  const accessToken = await issueUserAccessToken(ctx, { resolved, azp: callerId, azpacr: caller.azpacr, user });
  return tokenResponseBody(ctx, { scope, accessToken });
};
