/**
 * `/{tid}/oauth2/v2.0/authorize`: GET shows the login page, POST (the page's form) signs the chosen user in with a
 * new Entra session (`sid`) and sends an authorization code back to the client. Malformed requests get a 400 error
 * page and never a redirect.
 */
import { randomUUID } from 'node:crypto';
import { validateAuthorize } from './authorize-request.js';
import type { AuthorizeRequest, ResponseMode } from './authorize-request.js';
import { opaqueId } from './claims.js';
import { nowSeconds } from './context.js';
import type { MockContext } from './context.js';
import { EntraError } from './errors.js';
import { CODE_TTL_MS } from './grants/authorization-code.js';
import { formParams, htmlReply, redirectReply, uniqueParams } from './http-io.js';
import type { MockRequest, Params, Reply } from './http-io.js';
import { renderErrorPage, renderFormPost, renderLoginPage } from './pages.js';
import { findUser, userFromTypedName } from './users.js';

/** Sends authorization-response parameters to the client the way `response_mode` asks. */
function respond(redirectUri: string, mode: ResponseMode, params: Record<string, string>): Reply {
  if (mode === 'form_post') return htmlReply(200, renderFormPost(redirectUri, params));
  const url = new URL(redirectUri);
  if (mode === 'fragment') url.hash = new URLSearchParams(params).toString();
  else for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return redirectReply(url.toString());
}

/** Runs `fn` and turns an EntraError into the 400 error page. */
function orErrorPage(fn: () => Reply): Reply {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EntraError) return htmlReply(400, renderErrorPage(err.message));
    throw err;
  }
}

/** `prompt=none` cannot succeed: the mock keeps no browser session, as if the user had none at Entra. */
function loginRequired(request: AuthorizeRequest): Reply {
  return respond(request.redirectUri, request.responseMode, {
    error: 'login_required',
    error_description: `AADSTS50058: A silent sign-in request was sent but no user is signed in.`,
    state: request.state,
  });
}

function loginPage(ctx: MockContext, action: string, params: Params, request: AuthorizeRequest, error?: string): Reply {
  const appName = request.client.name ?? request.client.clientId;
  return htmlReply(
    error === undefined ? 200 : 400,
    renderLoginPage({ action, params, users: ctx.users, appName, error }),
  );
}

export function handleAuthorizeGet(ctx: MockContext, req: MockRequest): Reply {
  return orErrorPage(() => {
    const params = uniqueParams(req.query);
    ctx.lastAuthorizeParams = Object.fromEntries(params);
    const request = validateAuthorize(params, ctx.clients, ctx.tenantId);
    if (request.prompts.includes('none')) return loginRequired(request);
    return loginPage(ctx, req.path, params, request);
  });
}

export function handleAuthorizePost(ctx: MockContext, req: MockRequest): Reply {
  return orErrorPage(() => {
    const form = formParams(req);
    const request = validateAuthorize(form, ctx.clients, ctx.tenantId);
    const typed = form.get('username')?.trim() ?? '';
    if (typed === '') return loginPage(ctx, req.path, form, request, 'Choose a user or type a name.');
    let user = findUser(ctx.users, typed);
    if (user === undefined) {
      user = userFromTypedName(typed);
      ctx.users.push(user);
    }
    const now = ctx.clock();
    for (const [old, entry] of ctx.codes) if (now - entry.issuedAt > CODE_TTL_MS) ctx.codes.delete(old);
    const code = `0.A${opaqueId(64)}`;
    const sid = randomUUID();
    ctx.codes.set(code, {
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      scope: request.scope,
      user,
      sid,
      issuedAt: now,
      used: false,
      authTime: request.maxAge === undefined ? undefined : nowSeconds(ctx),
      acr: request.acr,
      claims: request.claims,
    });
    return respond(request.redirectUri, request.responseMode, { code, state: request.state, session_state: sid });
  });
}
