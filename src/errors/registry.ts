/**
 * The one registry of vestibule's error codes. Every failure that crosses a module boundary is a
 * {@link VestibuleError} with a code from here, so the HTTP layer maps codes to status and log level in
 * one place and `docs/errors.md` can be checked against this file.
 */
export const ErrorCodes = {
  CONFIG_INVALID: { status: 500, message: 'Invalid configuration' },
  LOGIN_STATE_MISSING: { status: 401, message: 'The login could not be matched to this browser' },
  LOGIN_STATE_MISMATCH: { status: 401, message: 'The login state did not match' },
  LOGIN_IDP_ERROR: { status: 502, message: 'The identity provider reported an error' },
  LOGIN_EXCHANGE_FAILED: { status: 502, message: 'The authorization code could not be redeemed' },
  LOGIN_REPLAYED: { status: 401, message: 'This login response was already used' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid' },
  IDP_UNAVAILABLE: { status: 502, message: 'The identity provider could not be reached' },
  IDP_REJECTED: { status: 400, message: 'The identity provider rejected the request' },
  STORE_UNAVAILABLE: { status: 503, message: 'The session store is unavailable' },
  UPSTREAM_UNAVAILABLE: { status: 502, message: 'The application is not reachable' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  NOT_NAVIGATION: { status: 401, message: 'This is an interactive endpoint; navigate the browser to it' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

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
