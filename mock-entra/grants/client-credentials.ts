/**
 * `grant_type=client_credentials` (entra.md C.5): exactly one `<resource>/.default` scope, a resource the tenant
 * knows, and a caller the target has pre-authorized (NAIS inbound access policy). Issues an app-only token.
 */
import { EntraError, missingParameter } from '../errors.js';
import { OIDC_SCOPES, isPreAuthorized, resolveScope, splitScope } from '../scopes.js';
import { issueAppAccessToken, tokenResponseBody } from '../token-issuer.js';
import type { GrantHandler } from './grant-handler.js';

export const clientCredentialsGrant: GrantHandler = async (ctx, form, caller) => {
  const scope = form.get('scope');
  if (!scope) throw missingParameter('scope');
  const items = splitScope(scope);
  for (const item of items) {
    if (OIDC_SCOPES.has(item) || !item.endsWith('/.default')) {
      throw new EntraError(
        'invalid_scope',
        1002012,
        `The provided value for scope ${item} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
  }
  const resolved = resolveScope(scope, ctx.clients, 700022);
  if (items.length !== 1) {
    throw new EntraError(
      'invalid_scope',
      70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    );
  }
  const callerId = caller.client.clientId;
  if (!isPreAuthorized(resolved.target, callerId)) {
    const target = resolved.target.kind === 'client' ? resolved.target.client : undefined;
    throw new EntraError(
      'invalid_grant',
      501051,
      `Application '${callerId}'(${caller.client.name ?? callerId}) is not assigned to a role for the application '${target?.clientId ?? ''}'(${target?.name ?? ''}).`,
    );
  }
  const accessToken = await issueAppAccessToken(ctx, {
    target: resolved.target,
    azp: callerId,
    azpacr: caller.azpacr,
  });
  return tokenResponseBody(ctx, { accessToken });
};
