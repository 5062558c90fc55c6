/**
 * The `claims` request parameter of an authorize request (OpenID Connect Core §5.5), as far as the mock honours
 * it: the authentication contexts asked for in `acrs` (Conditional Access step-up, always satisfied: the user
 * "passes" the extra check) and the client capabilities in `xms_cc` (e.g. `cp1`). What a login asked for goes
 * into its code, from there into every token of the login, and into its refresh tokens, so a refreshed access
 * token still carries the step-up, as Entra's do while the auth context's sign-in lasts.
 */
import { EntraError } from './errors.js';

/** The claims a login asked for that the mock puts into its tokens. */
export interface RequestedClaims {
  /** Authentication-context ids, e.g. `["c1"]`: the access token's and the ID token's `acrs`. */
  readonly acrs: readonly string[];
  /** Client capabilities, e.g. `["cp1"]`: the access token's `xms_cc`. */
  readonly xmsCc: readonly string[];
}

function bad(text: string): EntraError {
  return new EntraError('invalid_request', 90100, text);
}

/** A claim request's values: `value` and/or `values`, strings only. */
function valuesOf(request: unknown, name: string): string[] {
  if (request === null || request === undefined) return [];
  if (typeof request !== 'object' || Array.isArray(request)) throw bad(`The claims request for '${name}' is invalid.`);
  const { value, values } = request as { value?: unknown; values?: unknown };
  const out: string[] = [];
  if (value !== undefined) {
    if (typeof value !== 'string') throw bad(`The claims request for '${name}' has a value that is not a string.`);
    out.push(value);
  }
  if (values !== undefined) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw bad(`The claims request for '${name}' has values that are not strings.`);
    }
    out.push(...values);
  }
  return out;
}

/**
 * Parses the `claims` parameter; undefined when absent. Malformed JSON or members that are not objects are an
 * `invalid_request` (Entra refuses them too); claims the mock does not model are accepted and ignored.
 */
export function parseClaimsParameter(text: string | undefined): RequestedClaims | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('The claims parameter is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('The claims parameter must be a JSON object.');
  const acrs = new Set<string>();
  const xmsCc = new Set<string>();
  for (const [member, body] of Object.entries(v as Record<string, unknown>)) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw bad(`The claims parameter's '${member}' member must be an object.`);
    }
    const claims = body as Record<string, unknown>;
    for (const a of valuesOf(claims.acrs, 'acrs')) acrs.add(a);
    if (member === 'access_token') for (const c of valuesOf(claims.xms_cc, 'xms_cc')) xmsCc.add(c);
  }
  return { acrs: [...acrs], xmsCc: [...xmsCc] };
}

/** The claims a login's request adds to its access tokens. */
export function accessTokenExtras(r: RequestedClaims | undefined): Record<string, unknown> {
  return {
    ...(r && r.acrs.length > 0 ? { acrs: [...r.acrs] } : {}),
    ...(r && r.xmsCc.length > 0 ? { xms_cc: [...r.xmsCc] } : {}),
  };
}

/** The claims a login's request adds to its ID tokens. */
export function idTokenExtras(r: RequestedClaims | undefined): Record<string, unknown> {
  return r && r.acrs.length > 0 ? { acrs: [...r.acrs] } : {};
}
