/**
 * Entra's token-endpoint error shape. Every rejection in the mock is an {@link EntraError}; the server turns it
 * into the JSON body Entra sends (`error`, `error_description` with AADSTS code and trace lines, `error_codes`, …),
 * so the sidecar is tested against the real shape, including the `claims` challenge.
 */
import { randomUUID } from 'node:crypto';

/** The `error` values Entra uses at the token endpoint (entra.md C.7). */
export type EntraErrorName =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_resource'
  | 'interaction_required'
  | 'invalid_scope'
  | 'temporarily_unavailable';

/** A protocol error with its AADSTS code; `status` is 401 for `invalid_client`, else 400, unless given. */
export class EntraError extends Error {
  readonly error: EntraErrorName;
  readonly code: number;
  readonly status: number;
  /** Extra top-level body members, e.g. `claims` for `interaction_required`. */
  readonly extra: Readonly<Record<string, string>>;

  constructor(
    error: EntraErrorName,
    code: number,
    text: string,
    options: { status?: number; extra?: Record<string, string> } = {},
  ) {
    super(`AADSTS${code}: ${text}`);
    this.name = 'EntraError';
    this.error = error;
    this.code = code;
    this.status = options.status ?? (error === 'invalid_client' ? 401 : 400);
    this.extra = options.extra ?? {};
  }
}

/** Entra's timestamp format: `2024-05-01 10:00:00Z`. */
export function entraTimestamp(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The JSON body Entra sends for `err` at time `epochMs`. */
export function entraErrorBody(err: EntraError, epochMs: number): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = entraTimestamp(epochMs);
  return {
    error: err.error,
    error_description: `${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.code}`,
    ...err.extra,
  };
}

/** `invalid_request` for a missing form parameter (AADSTS900144), as Entra words it. */
export function missingParameter(name: string): EntraError {
  return new EntraError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

/** The Conditional Access challenge Entra sends for MFA (`interaction_required` + AADSTS50079 + `claims`). */
export function interactionRequired(): EntraError {
  const claims = JSON.stringify({
    access_token: { polids: { essential: true, values: ['9ab03e19-ed42-4168-b6b7-7001fb3e933a'] } },
  });
  return new EntraError(
    'interaction_required',
    50079,
    'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.',
    { extra: { claims } },
  );
}
