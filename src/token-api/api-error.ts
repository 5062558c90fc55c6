import { ErrorCodes, IdpResponseError, isVestibuleError, VestibuleError, type ErrorCode } from '../errors/registry.js';

/** An RFC 6749 §5.2 error body, as Texas sends it; `claims` only for a Conditional Access challenge. */
export interface ErrorBody {
  readonly error: string;
  readonly error_description: string;
  readonly claims?: string;
}

/** The token API's own refusals of the caller's request. */
export type TokenApiCode = 'TOKEN_INVALID_REQUEST' | 'TOKEN_INVALID_USER_TOKEN';

/**
 * A token-API refusal: a {@link VestibuleError} whose registry entry gives status and wire error, and whose
 * detail is the description sent to the caller (safe to show: it names the field, never a secret).
 */
export class TokenApiError extends VestibuleError {
  readonly description: string;

  constructor(code: TokenApiCode, description: string) {
    super(code, description);
    this.name = 'TokenApiError';
    this.description = description;
  }

  get body(): ErrorBody {
    return { error: ErrorCodes[this.code].error, error_description: this.description };
  }
}

/** 400 `invalid_request`: the caller's input is wrong; the description names the field. */
export function invalidRequest(description: string): TokenApiError {
  return new TokenApiError('TOKEN_INVALID_REQUEST', description);
}

/** What the caller gets for `err`, and whether it is our fault (logged as an error) or the caller's / Entra's. */
export interface ErrorResponse {
  /** The registry entry the answer is sent under. */
  readonly code: ErrorCode;
  readonly status: number;
  readonly body: ErrorBody;
  readonly ours: boolean;
}

/**
 * Texas' error mapping: Entra's answers keep Entra's status and pass `error`, `error_description` and `claims`
 * through (trace and correlation ids are dropped) as TOKEN_IDP_ERROR; our own failures (IdP unreachable, the
 * federated token file unreadable, malformed IdP answer, bugs) become TOKEN_SERVER_ERROR, 500 `server_error` with
 * a fixed description that says nothing about internals.
 */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof TokenApiError) return { code: err.code, status: err.status, body: err.body, ours: false };
  if (err instanceof IdpResponseError && err.httpStatus >= 400 && err.httpStatus <= 599) {
    const body: ErrorBody = {
      error: err.error,
      error_description: err.errorDescription ?? `the identity provider answered "${err.error}"`,
      ...(err.claims === undefined ? {} : { claims: err.claims }),
    };
    return { code: 'TOKEN_IDP_ERROR', status: err.httpStatus, body, ours: false };
  }
  const server = ErrorCodes.TOKEN_SERVER_ERROR;
  // Our failures that the app's team can act on say which (never more: no path, no content); the rest is a bug.
  const description =
    isVestibuleError(err) && (err.code === 'IDP_UNAVAILABLE' || err.code === 'CLIENT_ASSERTION_UNAVAILABLE')
      ? ErrorCodes[err.code].message
      : server.message;
  return {
    code: 'TOKEN_SERVER_ERROR',
    status: server.status,
    body: { error: server.error, error_description: description },
    ours: true,
  };
}
