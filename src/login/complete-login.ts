import { timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { loginCookieName, sessionCookieName } from '../cookies/our-cookies.js';
import type { Keyring } from '../crypto/keyring.js';
import { isVestibuleError, VestibuleError, type ErrorCode } from '../errors/registry.js';
import type { IdentityProvider, TokenResult } from '../oidc/provider.js';
import type { StoreKeys } from '../session/keys.js';
import type { SessionManager } from '../session/manager.js';
import { timeoutFrom, type SessionPolicy } from '../session/policy.js';
import type { SessionClaims, SessionRecord } from '../session/record.js';
import type { ClientBackoff } from '../session/client-backoff.js';
import type { Sessions } from '../session/sessions.js';
import type { SessionStore } from '../session/store.js';
import { single } from '../request/request-facts.js';
import { openLoginState } from './login-state.js';

/** What completing a login needs (a subset of the routes' dependencies). */
export interface CompleteLoginDeps {
  readonly keyring: Keyring;
  readonly store: SessionStore;
  readonly keys: StoreKeys;
  readonly provider: IdentityProvider;
  readonly sessions: Sessions;
  readonly manager: SessionManager;
  readonly policy: SessionPolicy;
  readonly sessionMaxLifetimeMs: number;
  readonly now: () => number;
  /** While Entra throttles our client id, a code is not redeemed: the user is asked to retry (503). */
  readonly clientBackoff?: ClientBackoff | undefined;
}

/** The callback request, as the route read it. */
export interface CallbackRequest {
  readonly query: Readonly<Record<string, unknown>>;
  readonly cookieHeader: string | undefined;
  /** The ingress the callback came through: it names our cookies (prefixed on https). */
  readonly ingress: Ingress;
  /** The URL the identity provider sent the browser to (our callback URL with the request's query). */
  readonly callbackUrl: () => URL;
  readonly log: FastifyBaseLogger;
  /**
   * Asks the callback throttle for a token-endpoint call: refused, the callback is answered 429 before the state
   * is spent; granted, `giveBack` is called when the login completes.
   */
  readonly takeRedeemSlot: () => { ok: true; giveBack: () => void } | { ok: false; scope: 'address' | 'global' };
  /** Called as soon as the login cookie is known: it is single-use whatever happens next. */
  readonly spendLoginCookie: (name: string) => void;
}

/** The `outcome` label of vestibule_logins_total. */
export type LoginOutcome =
  | 'success'
  | 'bad_request'
  | 'no_login_state'
  | 'state_mismatch'
  | 'idp_error'
  | 'replayed'
  | 'idp_unavailable'
  | 'exchange_failed'
  | 'throttled';

export type CompleteLoginResult =
  | {
      readonly ok: true;
      readonly outcome: 'success';
      /** The new session's cookie value. */
      readonly cookieValue: string;
      /** The store id of the new session's ticket: a step-up memory is bound to it (login/step-up-memory.ts). */
      readonly ticketId: string;
      /** Where the login asked to land (still to be resolved against the ingress). */
      readonly redirect: string;
      readonly claims: SessionClaims;
      /** The ID token's `amr`, joined with commas as Wonderwall does (the label of `wonderwall_logins`). */
      readonly amr: string;
      /**
       * The request carried more than one different valid session value: one of them was planted (cookie
       * tossing), and ours will not replace it (another domain or path), so the browser will still have no session.
       */
      readonly cookieTossingSuspected: boolean;
      /** The fingerprint of the claims request (step-up) this login asked for, when it asked for one. */
      readonly stepUp: string | undefined;
    }
  | {
      readonly ok: false;
      readonly outcome: Exclude<LoginOutcome, 'success'>;
      /** The registry entry to answer with. */
      readonly code: ErrorCode;
      /** Replaces the entry's message (e.g. naming the identity provider's error code). */
      readonly detail?: string;
      /** The login's redirect, once known, so "Try again" lands where the login was meant to. */
      readonly redirect?: string;
      /** The throttle's bucket that refused (outcome `throttled`). */
      readonly throttled?: 'address' | 'global';
    };

const PROTOCOL_PARAMETERS = ['state', 'code', 'iss', 'error', 'session_state'];

/**
 * The callback's protocol steps: match the response to this browser's login cookie (state, compared in constant
 * time), refuse duplicated parameters, the identity provider's errors and foreign issuers, spend the state in
 * the store before the code is redeemed (a login response is good once), redeem the code and validate the ID
 * token, then replace any previous session of this browser with a new one (a new id every login: no fixation).
 * Store failures are thrown (STORE_UNAVAILABLE); every other failure is a result naming its registry code.
 */
export async function completeLogin(req: CallbackRequest, d: CompleteLoginDeps): Promise<CompleteLoginResult> {
  const q = req.query;
  // Duplicated protocol parameters are ambiguous (parameter pollution): refuse them before anything else.
  if (PROTOCOL_PARAMETERS.some((p) => Array.isArray(q[p]))) {
    return { ok: false, outcome: 'bad_request', code: 'CALLBACK_REPEATED_PARAMETER' };
  }
  const state = single(q, 'state');
  // Our states are base64url; anything else is not a response to our login (and must not name a cookie).
  if (!state || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) {
    return { ok: false, outcome: 'bad_request', code: 'CALLBACK_STATE_MISSING' };
  }
  const name = loginCookieName(req.ingress, state);
  req.spendLoginCookie(name);
  const login = openLoginState(d.keyring, name, cookieValues(req.cookieHeader, name)[0], d.now());
  if (!login) return { ok: false, outcome: 'no_login_state', code: 'LOGIN_STATE_MISSING' };
  const redirect = login.redirect;
  if (!sameString(login.state, state)) {
    return { ok: false, outcome: 'state_mismatch', code: 'LOGIN_STATE_MISMATCH', redirect };
  }

  const error = single(q, 'error');
  if (error !== undefined) {
    const code = /^[a-z_]{1,64}$/.test(error) ? error : 'unknown_error';
    req.log.warn({ idpError: code }, 'identity provider returned an error to the callback');
    return {
      ok: false,
      outcome: 'idp_error',
      code: 'CALLBACK_IDP_ERROR',
      detail: `The identity provider reported an error (${code}).`,
      redirect,
    };
  }

  // Malformed responses are bad input (400), not an identity-provider fault: check before redeeming.
  const iss = q.iss;
  if (iss !== undefined && (typeof iss !== 'string' || !d.provider.validator.isOurIssuer(iss))) {
    return { ok: false, outcome: 'bad_request', code: 'CALLBACK_FOREIGN_ISSUER', redirect };
  }
  if (!single(q, 'code')) return { ok: false, outcome: 'bad_request', code: 'CALLBACK_CODE_MISSING', redirect };

  // Bounded token-endpoint calls: refused before the state is spent, so the user can try again with it.
  const slot = req.takeRedeemSlot();
  if (!slot.ok) return { ok: false, outcome: 'throttled', code: 'CALLBACK_THROTTLED', redirect, throttled: slot.scope };

  // Entra throttles the client id as a whole: redeeming now would only prolong it (and fail). The state is not
  // spent, the throttle's token given back; the page's retry starts a new login.
  if ((await d.clientBackoff?.until().catch(() => undefined)) !== undefined) {
    slot.giveBack();
    req.log.warn('callback: the identity provider is throttling this client; the code is not redeemed now');
    return { ok: false, outcome: 'idp_unavailable', code: 'CALLBACK_IDP_UNAVAILABLE', redirect };
  }

  // A login response is good once: the state is spent before the code is redeemed.
  // Only a code the IdP refuses keeps its charge: our own outages (store, IdP unreachable) are no client's doing.
  let fresh: boolean;
  try {
    fresh = await d.store.setIfAbsent(d.keys.spentState(state), '1', 600_000);
  } catch (err) {
    slot.giveBack();
    throw err;
  }
  if (!fresh) {
    slot.giveBack();
    return { ok: false, outcome: 'replayed', code: 'LOGIN_REPLAYED', redirect };
  }

  let tokens: TokenResult;
  let claims: Record<string, unknown>;
  try {
    ({ tokens, claims } = await d.provider.redeemCode(req.callbackUrl(), login));
  } catch (err) {
    if (!isVestibuleError(err)) throw err;
    req.log.warn({ failure: { errorCode: err.code, message: err.message } }, 'login failed');
    if (err.code === 'IDP_UNAVAILABLE' || err.code === 'CLIENT_ASSERTION_UNAVAILABLE') slot.giveBack();
    return err.code === 'IDP_UNAVAILABLE'
      ? { ok: false, outcome: 'idp_unavailable', code: 'CALLBACK_IDP_UNAVAILABLE', redirect }
      : { ok: false, outcome: 'exchange_failed', code: 'CALLBACK_EXCHANGE_FAILED', redirect };
  }
  req.log.debug(
    { expiresIn: tokens.expiresIn, refreshToken: tokens.refreshToken !== undefined, tid: claims.tid },
    'callback: code redeemed and ID token validated',
  );

  slot.giveBack();
  const previousValues = cookieValues(req.cookieHeader, sessionCookieName(req.ingress));
  const previous = await d.manager.find(previousValues).catch(() => null);
  if (previous) await d.sessions.destroy(previous).catch(() => undefined);
  const record = newRecord(tokens, claims, d.now(), d.sessionMaxLifetimeMs, d.policy);
  const { cookieValue, session } = await d.sessions.create(record);
  return {
    ok: true,
    outcome: 'success',
    cookieValue,
    ticketId: session.ticket.id,
    redirect,
    claims: record.claims,
    amr: amrOf(claims.amr),
    cookieTossingSuspected: d.manager.validValueCount(previousValues) > 1,
    stepUp: login.stepUp,
  };
}

/** `amr` as one string: a string as is, an array of strings joined with commas, anything else empty. */
export function amrOf(amr: unknown): string {
  if (typeof amr === 'string') return amr;
  if (Array.isArray(amr)) return amr.filter((v): v is string => typeof v === 'string').join(',');
  return '';
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The session record of a completed login: tokens, the claims vestibule keeps, and its lifetimes. */
export function newRecord(
  tokens: TokenResult,
  claims: Readonly<Record<string, unknown>>,
  now: number,
  maxLifetimeMs: number,
  policy: SessionPolicy,
): SessionRecord {
  if (typeof claims.sub !== 'string') throw new VestibuleError('LOGIN_EXCHANGE_FAILED', 'ID token has no sub');
  const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const kept: SessionClaims = {
    sub: claims.sub,
    tid: s(claims.tid),
    oid: s(claims.oid),
    sid: s(claims.sid),
    name: s(claims.name),
    preferredUsername: s(claims.preferred_username),
  };
  const endsAt = now + maxLifetimeMs;
  return {
    createdAt: now,
    endsAt,
    timeoutAt: timeoutFrom(now, { endsAt }, policy),
    refreshedAt: now,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: now + tokens.expiresIn * 1000,
    refreshToken: tokens.refreshToken ?? null,
    idToken: tokens.idToken ?? null,
    claims: kept,
  };
}
