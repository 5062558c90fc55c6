/**
 * `POST /{tid}/oauth2/v2.0/token`: parse the form, count the grant, apply any scripted failure, authenticate the
 * client, then hand over to the grant. Every rejection leaves as Entra's JSON error shape.
 */
import { STATUS_CODES } from 'node:http';
import { authenticateClient } from './client-auth.js';
import type { MockContext } from './context.js';
import { EntraError, entraErrorBody, interactionRequired, missingParameter } from './errors.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import type { GrantHandler } from './grants/grant-handler.js';
import { onBehalfOfGrant } from './grants/on-behalf-of.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { formParams, jsonReply, textReply } from './http-io.js';
import type { MockRequest, Reply } from './http-io.js';
import { isGrantType } from './types.js';
import type { GrantType, MockFailure } from './types.js';

const GRANTS: Record<GrantType, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  'urn:ietf:params:oauth:grant-type:jwt-bearer': onBehalfOfGrant,
};

/** Entra's JSON error reply for `err`. */
export function entraErrorReply(ctx: MockContext, err: EntraError): Reply {
  return jsonReply(err.status, entraErrorBody(err, ctx.clock()));
}

/** The error an injected 4xx status carries (the body must still look like Entra's). */
function injectedStatusError(status: number): EntraError {
  if (status === 401) return new EntraError('invalid_client', 7000215, 'Injected failure: invalid client.', { status });
  if (status === 429) {
    return new EntraError('temporarily_unavailable', 50196, 'Injected failure: request throttled.', { status });
  }
  return new EntraError('invalid_request', 90000, `Injected failure: HTTP ${status}.`, { status });
}

/** Applies a scripted failure: a reply to send instead, or undefined to carry on normally (after any delay). */
async function applyFailure(ctx: MockContext, failure: MockFailure, grant: GrantType): Promise<Reply | undefined> {
  switch (failure.kind) {
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, failure.ms));
      return undefined;
    case 'status': {
      const reply =
        failure.status >= 500
          ? textReply(failure.status, STATUS_CODES[failure.status] ?? 'Server Error')
          : entraErrorReply(ctx, injectedStatusError(failure.status));
      if (failure.retryAfter === undefined) return reply;
      return { ...reply, headers: { ...reply.headers, 'retry-after': String(failure.retryAfter) } };
    }
    case 'invalid_grant':
      return entraErrorReply(
        ctx,
        grant === 'refresh_token'
          ? new EntraError(
              'invalid_grant',
              70008,
              'The provided authorization code or refresh token has expired due to inactivity.',
            )
          : new EntraError(
              'invalid_grant',
              50173,
              'The provided grant has expired due to it being revoked, a fresh auth token is needed.',
            ),
      );
    case 'interaction_required':
      return entraErrorReply(ctx, interactionRequired());
    case 'jwks_down':
    case 'graph_down':
      return undefined;
  }
}

export async function handleToken(ctx: MockContext, req: MockRequest): Promise<Reply> {
  if (req.method !== 'POST') {
    return entraErrorReply(
      ctx,
      new EntraError(
        'invalid_request',
        900561,
        `The endpoint only accepts POST requests. Received a ${req.method} request.`,
      ),
    );
  }
  let grant: GrantType | undefined;
  let fields: readonly string[] | undefined;
  try {
    const form = formParams(req);
    fields = [...form.keys()].sort();
    const grantType = form.get('grant_type');
    if (!grantType) throw missingParameter('grant_type');
    if (!isGrantType(grantType)) {
      throw new EntraError(
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );
    }
    grant = grantType;
    ctx.grantCounts.set(grant, (ctx.grantCounts.get(grant) ?? 0) + 1);
    const failure = ctx.failures.takeForToken(grant);
    const injected = failure === undefined ? undefined : await applyFailure(ctx, failure, grant);
    if (injected !== undefined) return { ...injected, grant, fields };
    const caller = await authenticateClient(ctx, form, req.headers.authorization);
    const body = await GRANTS[grant](ctx, form, caller);
    return { ...jsonReply(200, body, { pragma: 'no-cache' }), grant, fields };
  } catch (err) {
    if (err instanceof EntraError) return { ...entraErrorReply(ctx, err), grant, ...(fields ? { fields } : {}) };
    throw err;
  }
}
