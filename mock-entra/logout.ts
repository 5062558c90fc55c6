/**
 * `/{tid}/oauth2/v2.0/logout` (RP-initiated logout, entra.md C.10). Records every call for assertions, then
 * redirects to `post_logout_redirect_uri` only when it is registered for the client the `id_token_hint` was issued
 * to (any client when there is no hint); otherwise shows "You have been signed out".
 */
import type { MockContext } from './context.js';
import { EntraError } from './errors.js';
import { formParams, htmlReply, redirectReply, uniqueParams } from './http-io.js';
import type { MockRequest, Params, Reply } from './http-io.js';
import { renderErrorPage, renderSignedOutPage } from './pages.js';
import { verifyOwnToken } from './tokens.js';
import type { EndSessionCall, MockClient } from './types.js';

function recordCall(params: Params): EndSessionCall {
  const call: EndSessionCall = {};
  const hint = params.get('id_token_hint');
  const uri = params.get('post_logout_redirect_uri');
  const state = params.get('state');
  const logoutHint = params.get('logout_hint');
  if (hint !== undefined) call.idTokenHint = hint;
  if (uri !== undefined) call.postLogoutRedirectUri = uri;
  if (state !== undefined) call.state = state;
  if (logoutHint !== undefined) call.logoutHint = logoutHint;
  return call;
}

/** The clients whose post-logout URIs count: the hint's audience, an explicit client_id, or all. */
async function candidateClients(ctx: MockContext, params: Params): Promise<MockClient[] | string> {
  const hint = params.get('id_token_hint');
  if (hint !== undefined) {
    // An expired ID token is a fine hint (OIDC RP-Initiated Logout §2); signature and issuer must hold.
    const verified = await verifyOwnToken(hint, ctx.keys, ctx.issuer);
    if (!verified.ok) return `AADSTS90000: The id_token_hint is not valid (${verified.problem}).`;
    const aud = Array.isArray(verified.payload.aud) ? verified.payload.aud[0] : verified.payload.aud;
    const client = aud === undefined ? undefined : ctx.clients.get(aud);
    return client === undefined ? [] : [client];
  }
  const clientId = params.get('client_id');
  if (clientId !== undefined) {
    const client = ctx.clients.get(clientId);
    return client === undefined ? [] : [client];
  }
  return [...ctx.clients.values()];
}

export async function handleLogout(ctx: MockContext, req: MockRequest): Promise<Reply> {
  let params: Params;
  try {
    params = req.method === 'POST' ? formParams(req) : uniqueParams(req.query);
  } catch (err) {
    if (err instanceof EntraError) return htmlReply(400, renderErrorPage(err.message));
    throw err;
  }
  ctx.endSessionCalls.push(recordCall(params));
  const candidates = await candidateClients(ctx, params);
  if (typeof candidates === 'string') return htmlReply(400, renderErrorPage(candidates));
  const target = params.get('post_logout_redirect_uri');
  if (target !== undefined && candidates.some((c) => (c.postLogoutRedirectUris ?? []).includes(target))) {
    const url = new URL(target);
    const state = params.get('state');
    if (state !== undefined) url.searchParams.set('state', state);
    return redirectReply(url.toString());
  }
  return htmlReply(200, renderSignedOutPage());
}
