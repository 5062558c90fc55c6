/**
 * The OIDC `claims` request parameter (OpenID Connect Core §5.5) as vestibule sends it to Entra: the step-up a
 * login asks for (`acrs`, an authentication context of Conditional Access), a Continuous Access Evaluation
 * challenge (`nbf`), and the client capabilities vestibule itself declares (`xms_cc`, e.g. `cp1`: added from
 * VESTIBULE_CLIENT_CAPABILITIES, never accepted from a request).
 *
 * A claims request reaches `/oauth2/login` from a link anyone can craft, and from an app's
 * `WWW-Authenticate` challenge. Either way it may only ask Entra for a stronger or fresher sign-in: only the
 * claims below, in the `access_token` and `id_token` members, each `null` or `{essential, value, values}` with
 * short string values, within {@link MAX_CLAIMS_REQUEST_LENGTH}. What passes is re-serialised, so nothing
 * else in the text (other members, duplicate keys, odd spacing) reaches Entra or the login cookie.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 */

/** The longest claims request accepted (the JSON text). Entra's own challenges are well under 200 bytes. */
export const MAX_CLAIMS_REQUEST_LENGTH = 2048;

/**
 * The claims a request may name: `acrs` (authentication context), `nbf` (CAE: a token issued after this time),
 * `polids` and `capolids` (Conditional Access policy challenges from the token endpoint). Anything else could
 * change what tokens carry rather than how the user signs in; client capabilities (`xms_cc`) in particular are
 * the operator's to declare (VESTIBULE_CLIENT_CAPABILITIES), never a login link's or an app answer's.
 */
const ALLOWED_CLAIMS = new Set(['acrs', 'nbf', 'polids', 'capolids']);
const MEMBERS = new Set(['access_token', 'id_token']);
const MAX_VALUES = 16;
/** A claim value: a short token (auth context ids `c1`…`c99`, epoch seconds, capability names, GUIDs). */
const VALUE = /^[A-Za-z0-9._:-]{1,64}$/;

interface ClaimRequest {
  essential?: boolean;
  value?: string;
  values?: string[];
}
type MemberRequest = Record<string, ClaimRequest | null>;
/** A validated claims request: only the members and claims allowed above. */
export type ClaimsRequest = Partial<Record<'access_token' | 'id_token', MemberRequest>>;

export type ClaimsParse = { ok: true; claims: ClaimsRequest; json: string } | { ok: false; problem: string };

const problem = (text: string): ClaimsParse => ({ ok: false, problem: text });

/** Validates a claims request given as JSON text; the problem names what is wrong, never echoing the input. */
export function parseClaimsRequest(text: string): ClaimsParse {
  if (text.length > MAX_CLAIMS_REQUEST_LENGTH) {
    return problem(`is longer than ${MAX_CLAIMS_REQUEST_LENGTH} characters`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return problem('is not JSON');
  }
  if (!isObject(v)) return problem('is not a JSON object');
  const claims: ClaimsRequest = {};
  for (const [member, body] of Object.entries(v)) {
    if (!MEMBERS.has(member)) return problem('may only have access_token and id_token members');
    if (!isObject(body)) return problem(`has a ${member} member that is not an object`);
    const out: MemberRequest = {};
    for (const [name, request] of Object.entries(body)) {
      if (!ALLOWED_CLAIMS.has(name)) return problem('asks for a claim other than acrs, nbf, polids, capolids');
      const parsed = claimRequest(request);
      if (parsed === undefined) return problem(`has a ${name} request that is not null or {essential, value, values}`);
      out[name] = parsed;
    }
    claims[member as 'access_token' | 'id_token'] = out;
  }
  if (Object.keys(claims).length === 0) return problem('asks for nothing');
  return { ok: true, claims, json: JSON.stringify(claims) };
}

function claimRequest(v: unknown): ClaimRequest | null | undefined {
  if (v === null) return null;
  if (!isObject(v)) return undefined;
  const out: ClaimRequest = {};
  for (const [key, x] of Object.entries(v)) {
    if (key === 'essential' && typeof x === 'boolean') out.essential = x;
    else if (key === 'value' && typeof x === 'string' && VALUE.test(x)) out.value = x;
    else if (
      key === 'values' &&
      Array.isArray(x) &&
      x.length > 0 &&
      x.length <= MAX_VALUES &&
      x.every((e) => typeof e === 'string' && VALUE.test(e))
    ) {
      out.values = x as string[];
    } else return undefined;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The claims request sent to Entra: `asked` (a step-up or an app's challenge, which never names `xms_cc`) with
 * the configured client capabilities declared in `access_token.xms_cc`; undefined when there is nothing to ask.
 */
export function claimsForLogin(asked: ClaimsRequest | undefined, capabilities: readonly string[]): string | undefined {
  if (capabilities.length === 0) return asked === undefined ? undefined : JSON.stringify(asked);
  const access: MemberRequest = { ...asked?.access_token, xms_cc: { values: [...capabilities] } };
  return JSON.stringify({ ...asked, access_token: access });
}

/** The authentication-context ids (`acrs`) a claims request names, in either member. */
export function requestedAcrs(claims: ClaimsRequest): string[] {
  const out = new Set<string>();
  for (const member of [claims.access_token, claims.id_token]) {
    const acrs = member?.acrs;
    if (acrs?.value !== undefined) out.add(acrs.value);
    for (const v of acrs?.values ?? []) out.add(v);
  }
  return [...out];
}
