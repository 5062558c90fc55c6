import { ErrorCodes, IdpResponseError, isVestibuleError } from '../errors/registry.js';

/** An RFC 6749 §5.2 error body, as Texas sends it; `claims` only for a Conditional Access challenge. */
export interface ErrorBody {
  readonly error: string;
  readonly error_description: string;
  readonly claims?: string;
}

/** A token-API failure with the status and body to send; its description is safe to show the caller. */
export class TokenApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(`${body.error}: ${body.error_description}`);
    this.name = 'TokenApiError';
    this.status = status;
    this.body = body;
  }
}

/** 400 `invalid_request`: the caller's input is wrong; the description names the field. */
export function invalidRequest(description: string): TokenApiError {
  return new TokenApiError(400, { error: 'invalid_request', error_description: description });
}

/** What the caller gets for `err`, and whether it is our fault (logged as an error) or the caller's / Entra's. */
export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  readonly ours: boolean;
}

/**
 * Texas' error mapping: Entra's answers keep Entra's status and pass `error`, `error_description` and `claims`
 * through (trace and correlation ids are dropped); our own failures (IdP unreachable, malformed IdP answer,
 * bugs) become 500 `server_error` with a fixed description that says nothing about internals.
 */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof TokenApiError) return { status: err.status, body: err.body, ours: false };
  if (err instanceof IdpResponseError && err.httpStatus >= 400 && err.httpStatus <= 599) {
    const body: ErrorBody = {
      error: err.error,
      error_description: err.errorDescription ?? `the identity provider answered "${err.error}"`,
      ...(err.claims === undefined ? {} : { claims: err.claims }),
    };
    return { status: err.httpStatus, body, ours: false };
  }
  const description =
    isVestibuleError(err) && err.code === 'IDP_UNAVAILABLE' ? ErrorCodes.IDP_UNAVAILABLE.message : 'internal error';
  return { status: 500, body: { error: 'server_error', error_description: description }, ours: true };
}
