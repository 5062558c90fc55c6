/**
 * The one registry of vestibule's errors: every error answer vestibule sends, and every failure that crosses a
 * module boundary as a {@link VestibuleError}, has an entry here. An entry fixes the HTTP status, the wire
 * `error` string, the default human message (the JSON `error_description`, the page's text, or the text/plain
 * body) and, for interactive endpoints, the page title. `sendError` (answers.ts) is the only way they are sent;
 * `docs/errors.md` is generated from this table (`npm run docs`) and checked for drift by the tests.
 */

/** How an answer is written: JSON `{error, error_description, ...}`, the HTML error page, or text/plain. */
export type AnswerShape = 'json' | 'page' | 'text';

/**
 * Caching and sniffing headers sent with a JSON or text answer (pages always get the full `private` set):
 * `private` is {@link noStore}'s set for /oauth2 (no-store, no-cache, pragma, expires, nosniff, no-referrer),
 * `no-store` is `cache-control: no-store` alone, `none` adds nothing (the token API's onSend hook adds its own).
 */
export type CachePolicy = 'private' | 'no-store' | 'none';

export interface ErrorEntry {
  readonly status: number;
  /** How it is answered; the first is the default of `sendError`. */
  readonly shapes: readonly AnswerShape[];
  /** The wire `error` string (JSON answers); what a thrown VestibuleError answers with if nothing catches it. */
  readonly error: string;
  /** The default human message; a call's `detail` replaces it. */
  readonly message: string;
  /** The HTML page's title, for answers to interactive (browser) requests. */
  readonly title?: string;
  /** The label of the page's retry button ("Try again" when omitted). */
  readonly retryLabel?: string;
  /** `false` when the JSON body is only `{error, ...fields}` without `error_description`. */
  readonly describe?: false;
  readonly cache: CachePolicy;
  /** `Retry-After` seconds sent with the answer. */
  readonly retryAfterSec?: number;
  /** Status and wire error come from the identity provider or Fastify per call (`status`/`error` options). */
  readonly passThrough?: true;
  /** Where and when it is sent (docs/errors.md). */
  readonly where: string;
}

const LOGIN_FAILED = 'Login failed';

export const ErrorCodes = {
  // Thrown inside vestibule (VestibuleError); caught and mapped where they occur, else answered by the generic
  // error handler with this status and wire error.
  CONFIG_INVALID: {
    status: 500,
    shapes: [],
    error: 'config_invalid',
    message: 'Invalid configuration',
    cache: 'none',
    where: 'thrown at start-up (e.g. a multi-tenant discovery URL); vestibule exits, nothing is answered',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    shapes: ['json'],
    error: 'store_unavailable',
    message: 'The session store is unavailable',
    cache: 'private',
    where:
      'thrown by the Redis store; answered by the generic error handler on /oauth2 endpoints that need the store (session, refresh, forward-auth, logout/local, front-channel logout, callback)',
  },
  IDP_UNAVAILABLE: {
    status: 502,
    shapes: ['json'],
    error: 'idp_unavailable',
    message: 'The identity provider could not be reached',
    cache: 'private',
    where:
      'thrown by the OIDC client (discovery, JWKS, token endpoint unreachable or timed out); mapped by the callback and the token API',
  },
  IDP_REJECTED: {
    status: 400,
    shapes: ['json'],
    error: 'idp_rejected',
    message: 'The identity provider rejected the request',
    cache: 'private',
    where:
      "thrown by the OIDC client for an error answer of the token endpoint (IdpResponseError, carries Entra's error)",
  },
  LOGIN_IDP_ERROR: {
    status: 502,
    shapes: ['json'],
    error: 'login_idp_error',
    message: 'The identity provider reported an error',
    cache: 'private',
    where: 'thrown by the OIDC client for an authorization-response error; mapped by the callback',
  },
  LOGIN_EXCHANGE_FAILED: {
    status: 502,
    shapes: ['json'],
    error: 'login_exchange_failed',
    message: 'The authorization code could not be redeemed',
    cache: 'private',
    where:
      'thrown by the OIDC client for a malformed token response, and when the ID token has no `sub` (then answered by the generic error handler)',
  },
  CLIENT_ASSERTION_UNAVAILABLE: {
    status: 500,
    shapes: [],
    error: 'client_assertion_unavailable',
    message: 'The federated token file (workload identity) could not be read',
    cache: 'none',
    where:
      'thrown by the client authentication when AZURE_FEDERATED_TOKEN_FILE is missing, unreadable, empty, over 16 KB or not a JWT; the grant fails (callback: exchange failed page, refresh: the current token is kept, token API: 500 `server_error` with this message); at start-up vestibule exits',
  },
  TOKEN_INVALID: {
    status: 401,
    shapes: ['json'],
    error: 'token_invalid',
    message: 'The token is not valid',
    cache: 'private',
    where: 'thrown by the token validator; mapped by the token API, introspection and protected paths',
  },
  NOT_NAVIGATION: {
    status: 401,
    shapes: ['json'],
    error: 'unauthenticated',
    message: 'This is an interactive endpoint; navigate the browser to it',
    cache: 'private',
    where:
      'login, callback and logout requested by fetch/XHR (fetch metadata says not a navigation); JSON with `error_path`',
  },

  // Generic error handler (public listener).
  INTERNAL_ERROR: {
    status: 500,
    shapes: ['json'],
    error: 'internal_error',
    message: 'internal error',
    describe: false,
    cache: 'none',
    passThrough: true,
    where:
      'generic error handler: an unexpected error (a bug; a 5xx status set on the error is kept); JSON with `request_id`',
  },
  BAD_REQUEST: {
    status: 400,
    shapes: ['json'],
    error: 'bad_request',
    message: 'The request could not be read',
    describe: false,
    cache: 'none',
    passThrough: true,
    where: 'generic error handler: Fastify refused the request (its own 4xx status is kept); JSON with `request_id`',
  },
  OAUTH2_NOT_FOUND: {
    status: 404,
    shapes: ['json'],
    error: 'not_found',
    message: 'Not found',
    describe: false,
    cache: 'private',
    where: 'an unknown path under /oauth2 (vestibule owns the subtree; never proxied)',
  },

  // GET /oauth2/login
  LOGIN_RATE_LIMITED: {
    status: 429,
    shapes: ['page'],
    error: 'too_many_logins',
    title: 'Too many logins',
    message:
      "This browser started many logins in a short time, which usually means the application keeps sending you back to log in. Wait a minute, then open the front page. If it happens again, tell the application's team (and quote the correlation ID below).",
    cache: 'private',
    // LOGIN_WINDOW_SEC (login/login-rate-limit.ts; a leaf imports nothing): src/login/login-limits.test.ts checks.
    retryAfterSec: 60,
    where: 'login: the login-loop limit of this browser was reached (page)',
  },

  LOGIN_CLAIMS_INVALID: {
    status: 400,
    shapes: ['page'],
    error: 'invalid_claims',
    title: LOGIN_FAILED,
    message:
      'The link that started this login asks the identity provider for something vestibule does not pass on. Open the front page and try again from there.',
    cache: 'private',
    where:
      'login: the `claims` parameter is not a claims request vestibule passes on (a JSON object asking only for `acrs`, `nbf`, `polids` or `capolids` in `access_token`/`id_token`, at most 2 KB; never `xms_cc`, which only VESTIBULE_CLIENT_CAPABILITIES declares; see docs/step-up.md)',
  },
  STEP_UP_UNSATISFIED: {
    status: 403,
    shapes: ['page'],
    error: 'step_up_unsatisfied',
    title: 'Additional sign-in did not help',
    message:
      "You just signed in again with the additional verification the application asked for, but it still asks for it, so signing in once more would not help. Tell the application's team (and quote the correlation ID below).",
    cache: 'private',
    where:
      'login: the same claims request (step-up) as the login that created the session of this browser, completed in the last 5 minutes (its memory cookie is MAC-bound to that session); the fresh token did not satisfy the app, so no second round (docs/step-up.md)',
  },

  // GET /oauth2/callback (pages; "Try again" starts a new login)
  CALLBACK_REPEATED_PARAMETER: {
    status: 400,
    shapes: ['page'],
    error: 'invalid_request',
    title: LOGIN_FAILED,
    message: 'The response from the identity provider repeats a parameter.',
    cache: 'private',
    where: 'callback: state, code, iss, error or session_state given more than once (page)',
  },
  CALLBACK_STATE_MISSING: {
    status: 400,
    shapes: ['page'],
    error: 'invalid_request',
    title: LOGIN_FAILED,
    message: 'The response from the identity provider is missing its state.',
    cache: 'private',
    where: 'callback: no state, or not one of ours in form (page)',
  },
  LOGIN_STATE_MISSING: {
    status: 401,
    shapes: ['page'],
    error: 'login_state_missing',
    title: 'Login expired',
    message: 'This login was started in another browser, has expired, or was already completed.',
    cache: 'private',
    where: 'callback: this browser has no (valid, unexpired) login cookie for the state (page)',
  },
  LOGIN_STATE_MISMATCH: {
    status: 401,
    shapes: ['page'],
    error: 'login_state_mismatch',
    title: LOGIN_FAILED,
    message: 'The login state did not match.',
    cache: 'private',
    where: "callback: the login cookie's state is not the response's state (page)",
  },
  CALLBACK_IDP_ERROR: {
    status: 502,
    shapes: ['page'],
    error: 'login_idp_error',
    title: LOGIN_FAILED,
    message: 'The identity provider reported an error.',
    cache: 'private',
    where: 'callback: the identity provider answered with `error=` (its code is named on the page)',
  },
  CALLBACK_FOREIGN_ISSUER: {
    status: 400,
    shapes: ['page'],
    error: 'invalid_request',
    title: LOGIN_FAILED,
    message: 'The response came from another identity provider.',
    cache: 'private',
    where: 'callback: `iss` is not our issuer (page)',
  },
  CALLBACK_CODE_MISSING: {
    status: 400,
    shapes: ['page'],
    error: 'invalid_request',
    title: LOGIN_FAILED,
    message: 'The response from the identity provider has no (single) authorization code.',
    cache: 'private',
    where: 'callback: no code (page)',
  },
  LOGIN_REPLAYED: {
    status: 401,
    shapes: ['page'],
    error: 'login_replayed',
    title: 'Login already used',
    message: 'This login response was already used.',
    cache: 'private',
    where: 'callback: the state was already spent (replay guard in the store) (page)',
  },
  CALLBACK_IDP_UNAVAILABLE: {
    status: 503,
    shapes: ['page'],
    error: 'temporarily_unavailable',
    title: LOGIN_FAILED,
    message: 'The identity provider could not be reached. Please try again in a moment.',
    cache: 'private',
    where: 'callback: the token endpoint could not be reached to redeem the code (page)',
  },
  CALLBACK_THROTTLED: {
    status: 429,
    shapes: ['page'],
    error: 'too_many_callbacks',
    title: 'Too many logins',
    message:
      'Too many logins were attempted from your network in a short time. Please wait a few seconds and try again.',
    cache: 'private',
    retryAfterSec: 10,
    where:
      'callback: the per-address (10 a minute, burst 10) or process-wide (20 a second, burst 100) bound on callbacks that did not complete a login was reached; answered before the token endpoint is called (page)',
  },
  CALLBACK_EXCHANGE_FAILED: {
    status: 502,
    shapes: ['page'],
    error: 'login_exchange_failed',
    title: LOGIN_FAILED,
    message: 'The login could not be completed.',
    cache: 'private',
    where: 'callback: the code was refused or the ID token did not validate (page)',
  },

  // /oauth2/logout
  LOGOUT_STORE_UNAVAILABLE: {
    status: 503,
    shapes: ['page'],
    error: 'store_unavailable',
    title: 'Logout not completed',
    message: 'Your session could not be ended right now. Please try again in a moment.',
    cache: 'private',
    where:
      'logout: the session store is down, so the session could not be ended (page, "Try again" repeats the logout)',
  },
  LOGOUT_CROSS_SITE: {
    status: 403,
    shapes: ['json'],
    error: 'forbidden',
    message:
      'logout/local ends a session only for a same-origin request: GET with Sec-Fetch-Site same-origin or none, or POST without a foreign Origin',
    cache: 'private',
    where:
      "logout/local: another site (or no Fetch Metadata on a GET) asked to end the session (login CSRF's twin); the session is kept",
  },
  LOGOUT_CONFIRM: {
    status: 403,
    shapes: ['page'],
    error: 'forbidden',
    title: 'Log out?',
    message: 'Another site sent you here to log you out. You are still logged in. To log out, use the button below.',
    retryLabel: 'Log out',
    cache: 'private',
    where:
      "logout: a navigation from another site (Sec-Fetch-Site cross-site or same-site); the page's button repeats the logout from our own origin",
  },
  FRONTCHANNEL_SID_MISSING: {
    status: 400,
    shapes: ['text'],
    error: 'invalid_request',
    message: 'sid is too long',
    cache: 'no-store',
    where: 'front-channel logout: `sid` longer than 256 characters (text/plain); without `sid` the answer is 202',
  },
  FRONTCHANNEL_FOREIGN_ISSUER: {
    status: 400,
    shapes: ['text'],
    error: 'invalid_request',
    message: 'iss does not match this identity provider',
    cache: 'no-store',
    where: 'front-channel logout: `iss` is not our issuer (text/plain)',
  },

  // /oauth2/session*
  SESSION_UNAUTHENTICATED: {
    status: 401,
    shapes: ['json'],
    error: 'unauthenticated',
    message: 'no active session',
    cache: 'private',
    where: 'session, session/refresh, session/forwardauth: no active session',
  },
  FORWARD_AUTH_BROWSER_REQUEST: {
    status: 403,
    shapes: ['json'],
    error: 'forbidden',
    message:
      "the forward-auth listener answers the ingress subrequest only: this request carries browser Fetch Metadata or an Origin (do not copy the browser's headers into the subrequest; see docs/forward-auth.md)",
    cache: 'private',
    where:
      'forward-auth listener: a request page script could read (an Origin, Sec-Fetch-Mode other than navigate, Sec-Fetch-Dest other than a document); no token is answered',
  },
  FORWARD_AUTH_NOT_FOUND: {
    status: 404,
    shapes: ['json'],
    error: 'not_found',
    message: 'Not found',
    describe: false,
    cache: 'private',
    where: 'forward-auth listener: any path but /oauth2/session/forwardauth',
  },
  SESSION_REFRESH_UNAVAILABLE: {
    status: 503,
    shapes: ['json'],
    error: 'temporarily_unavailable',
    message: 'the identity provider could not be reached',
    cache: 'private',
    retryAfterSec: 5,
    where: 'session/refresh: the refresh could not reach the identity provider; the session is kept',
  },

  // Token API (Texas-compatible; cache headers come from the listener's onSend hook)
  TOKEN_INVALID_REQUEST: {
    status: 400,
    shapes: ['json'],
    error: 'invalid_request',
    message: 'the request could not be read',
    cache: 'none',
    where:
      'token API: a missing or malformed field, unsupported media type, body too large; the description names the field',
  },
  TOKEN_NO_ENDPOINT: {
    status: 404,
    shapes: ['json'],
    error: 'invalid_request',
    message: 'no such endpoint',
    cache: 'none',
    where: 'token API: an unknown path',
  },
  TOKEN_INVALID_USER_TOKEN: {
    status: 400,
    shapes: ['json'],
    error: 'invalid_grant',
    message: "field 'user_token' is not a valid user token for this application",
    cache: 'none',
    where: 'token API exchange: the user token fails validation (what Entra answers for the same assertion)',
  },
  TOKEN_IDP_ERROR: {
    status: 400,
    shapes: ['json'],
    error: 'invalid_grant',
    message: 'the identity provider refused the request',
    cache: 'none',
    passThrough: true,
    where:
      "token API: Entra's error answer passed through with Entra's status, `error`, `error_description` and `claims`",
  },
  TOKEN_SERVER_ERROR: {
    status: 500,
    shapes: ['json'],
    error: 'server_error',
    message: 'internal error',
    cache: 'none',
    where:
      'token API: our fault (identity provider unreachable: "The identity provider could not be reached"; a bug: "internal error")',
  },

  TOKEN_MISDIRECTED: {
    status: 421,
    shapes: ['json'],
    error: 'invalid_request',
    message: 'the Host header must name this loopback listener: 127.0.0.1, [::1] or localhost, with its port',
    cache: 'none',
    where: "token API: a Host that is not a loopback name with the listener's port (DNS rebinding from a browser)",
  },
  TOKEN_BROWSER_REQUEST: {
    status: 403,
    shapes: ['json'],
    error: 'access_denied',
    message: 'the token API does not answer browsers: the request carries an Origin or cross-site Fetch Metadata',
    cache: 'none',
    where:
      'token API: a request with an `Origin` header or `Sec-Fetch-Site` other than none/same-origin (a web page posting to the loopback API)',
  },

  // Admin listener
  ADMIN_NOT_FOUND: {
    status: 404,
    shapes: ['json'],
    error: 'not_found',
    message: 'Not found',
    describe: false,
    cache: 'no-store',
    where: 'admin listener: an unknown path, and the operator endpoints while VESTIBULE_ADMIN_TOKEN is unset',
  },
  ADMIN_UNAUTHORIZED: {
    status: 401,
    shapes: ['json'],
    error: 'invalid_token',
    message: 'the operator endpoints need Authorization: Bearer <VESTIBULE_ADMIN_TOKEN>',
    cache: 'no-store',
    where:
      'admin listener, operator endpoints: no bearer token, or not the configured one; with `WWW-Authenticate: Bearer`',
  },
  ADMIN_BAD_OID: {
    status: 400,
    shapes: ['json'],
    error: 'invalid_request',
    message: 'oid must be an object id (GUID)',
    cache: 'no-store',
    where: 'admin listener, DELETE /admin/users/:oid/sessions: the oid is not a GUID',
  },

  // Proxy (everything outside /oauth2)
  PROXY_BAD_REQUEST: {
    status: 400,
    shapes: ['json'],
    error: 'bad_request',
    message: 'the request target cannot be passed on',
    cache: 'none',
    where: 'proxy: request target or Host refused before anything is passed on; the description says why',
  },
  PROXY_FORBIDDEN: {
    status: 403,
    shapes: ['json'],
    error: 'forbidden',
    message: 'a page of another site may not use this session',
    cache: 'no-store',
    where:
      'proxy: a websocket opened from another site, or (VESTIBULE_CSRF_CHECK) an unsafe method with a session from another site; never reaches the app',
  },
  PROXY_STORE_UNAVAILABLE: {
    status: 503,
    shapes: ['json'],
    error: 'session store unavailable, please retry',
    message: 'session store unavailable, please retry',
    describe: false,
    cache: 'none',
    retryAfterSec: 5,
    where: 'proxy with auto-login: the session store is down (a login loop would not help)',
  },
  PROXY_INVALID_TOKEN: {
    status: 401,
    shapes: ['json'],
    error: 'invalid_token',
    message: 'no token',
    cache: 'no-store',
    where: 'proxy, protected paths: no token or an invalid one; with `WWW-Authenticate: Bearer …`',
  },
  PROXY_INSUFFICIENT_SCOPE: {
    status: 403,
    shapes: ['json'],
    error: 'insufficient_scope',
    message: 'the token lacks a required role or scope',
    cache: 'no-store',
    where: 'proxy, protected paths: the token lacks every role/scope of a matching rule; with `WWW-Authenticate`',
  },
  PROXY_CALLER_FORBIDDEN: {
    status: 403,
    shapes: ['json'],
    error: 'access_denied',
    message: 'the calling application is not allowed here',
    cache: 'no-store',
    where:
      "proxy, protected paths: the token's `azp` is not in AZURE_APP_PRE_AUTHORIZED_APPS (nor this app), or not among a rule's `callers=`",
  },
  PROXY_GROUP_REQUIRED: {
    status: 403,
    shapes: ['json', 'page'],
    error: 'insufficient_scope',
    title: 'Access denied',
    message: 'You are not a member of a group that has access to this page.',
    cache: 'no-store',
    where:
      "proxy, protected paths: the user is in none of a rule's `groups=` (the page for navigations, else JSON with `WWW-Authenticate`)",
  },
  PROXY_GROUPS_UNAVAILABLE: {
    status: 503,
    shapes: ['json', 'page'],
    error: 'groups_unavailable',
    title: 'Service unavailable',
    message: 'Your group memberships could not be looked up in Microsoft Graph; please try again shortly.',
    cache: 'no-store',
    retryAfterSec: 30,
    where:
      'proxy, protected paths with `groups=`: Entra left the groups out of the token (overage) and Microsoft Graph failed; fails closed (counted in `vestibule_graph_lookups_total{outcome="error"}`)',
  },
  PROXY_STEP_UP_REQUIRED: {
    status: 401,
    shapes: ['json', 'text'],
    error: 'insufficient_claims',
    message: 'this page requires a stronger sign-in, please log in again',
    cache: 'no-store',
    where:
      'proxy: a rule with `acrs=` the session lacks, or the app answered `401` with `WWW-Authenticate: Bearer error="insufficient_claims", claims=…` to a request carrying the session\'s token (docs/step-up.md). For fetch/XHR, JSON with `login_url` (a login asking for those claims), `Location` is the same URL; navigations are redirected there',
  },
  PROXY_CLAIMS_REQUIRED: {
    status: 401,
    shapes: ['json'],
    error: 'insufficient_claims',
    message: 'the token lacks a required authentication context',
    cache: 'no-store',
    where:
      'proxy, a rule with `acrs=`, bearer callers: `WWW-Authenticate: Bearer error="insufficient_claims", claims="<base64>"` for the caller to get a new token with',
  },
  PROXY_LOGIN_REQUIRED: {
    status: 401,
    shapes: ['json', 'text'],
    error: 'unauthenticated, please log in',
    message: 'unauthenticated, please log in',
    describe: false,
    cache: 'no-store',
    where:
      'proxy with auto-login, not a navigation: JSON with `login_url` (or text/plain), `Location` is the login URL',
  },
  UPSTREAM_UNREACHABLE: {
    status: 502,
    shapes: ['page', 'json'],
    error: 'bad_gateway',
    title: 'Service unavailable',
    message: 'The application is not reachable.',
    cache: 'no-store',
    where:
      'proxy: the application refused or dropped the connection (page for navigations, else JSON with `request_id`)',
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    shapes: ['page', 'json'],
    error: 'upstream_timeout',
    title: 'Service unavailable',
    message: 'The application did not answer in time.',
    cache: 'no-store',
    where:
      'proxy: the application did not answer within VESTIBULE_UPSTREAM_TIMEOUT (page for navigations, else JSON with `request_id`)',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The entry of `code`, typed as the general shape (optional members readable). */
export function entryOf(code: ErrorCode): ErrorEntry {
  return ErrorCodes[code];
}

/** Base class for every expected failure. `detail` is safe to log (never a token, code or cookie value). */
export class VestibuleError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ErrorCodes[code].message}: ${detail}` : ErrorCodes[code].message, options);
    this.name = 'VestibuleError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.detail = detail;
  }
}

/**
 * An error response from the identity provider's token endpoint. Kept distinct from our own failures so the
 * token API can pass Entra's `error`, `error_description` and `claims` through unchanged.
 */
export class IdpResponseError extends VestibuleError {
  readonly httpStatus: number;
  readonly error: string;
  readonly errorDescription: string | undefined;
  readonly claims: string | undefined;

  constructor(
    httpStatus: number,
    body: { error: string; error_description?: string | undefined; claims?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super('IDP_REJECTED', `${body.error} (HTTP ${httpStatus})`, options);
    this.name = 'IdpResponseError';
    this.httpStatus = httpStatus;
    this.error = body.error;
    this.errorDescription = body.error_description;
    this.claims = body.claims;
  }
}

export function isVestibuleError(err: unknown): err is VestibuleError {
  return err instanceof VestibuleError;
}
