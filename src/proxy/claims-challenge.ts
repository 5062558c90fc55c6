import type { FastifyReply } from 'fastify';
import type { Ingress } from '../config/ingress.js';
import { MAX_CLAIMS_REQUEST_LENGTH, parseClaimsRequest } from '../login/claims-request.js';
import { claimsFingerprint } from '../login/step-up-memory.js';
import { loginResponseKind } from '../request/navigation.js';
import { answerVerdict } from './access-answer.js';
import { latin1 } from './raw-header.js';

/**
 * Where a claims challenge of the app is answered: the proxied request's reply and ingress. Given to the
 * forwarder only when the request carried the session's token (the challenge is then about that token).
 */
export interface ClaimsChallengeTarget {
  readonly reply: FastifyReply;
  readonly ingress: Ingress;
}

/** What an app's `WWW-Authenticate` said: a usable claims challenge, an unusable one, or none. */
export type ChallengeRead = { readonly claims: string } | { readonly problem: string } | undefined;

/** Longest `WWW-Authenticate` value read (a base64 claims request within the bound, plus other parameters). */
const MAX_HEADER_LENGTH = 8192;
/** An auth-param (`name=token` or `name="quoted"`) or a bare token (an auth-scheme), after separators. */
const ITEM =
  /[\s,]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z/=-]+)|([!#$%&'*+.^_`|~0-9A-Za-z-]+))/y;

/**
 * The claims challenge in an app's 401 answer (its raw header list), per RFC 6750 §3 and Microsoft's claims
 * challenge: a `Bearer` challenge with `error="insufficient_claims"` and `claims="<base64 of a claims request>"`.
 * Anything else (another error, another scheme, no claims) is no challenge; a claims value that is not a claims
 * request vestibule would send (see claims-request.ts) is reported as a problem and the answer passes on as is.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 */
export function readClaimsChallenge(rawHeaders: readonly (Buffer | string)[]): ChallengeRead {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (latin1(rawHeaders[i]).toLowerCase() !== 'www-authenticate') continue;
    const value = latin1(rawHeaders[i + 1]);
    if (value.length > MAX_HEADER_LENGTH) return { problem: 'the WWW-Authenticate header is too long' };
    for (const params of bearerChallenges(value)) {
      if (params.get('error') !== 'insufficient_claims') continue;
      const encoded = params.get('claims');
      if (encoded === undefined) return { problem: 'insufficient_claims without claims' };
      return decodeClaims(encoded);
    }
  }
  return undefined;
}

/** The parameters of each `Bearer` challenge in one header value (names lower-cased, quotes removed). */
function bearerChallenges(value: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  ITEM.lastIndex = 0;
  for (let m = ITEM.exec(value); m !== null; m = ITEM.exec(value)) {
    const [, name, raw, scheme] = m;
    if (scheme !== undefined) {
      current = scheme.toLowerCase() === 'bearer' ? new Map() : undefined;
      if (current) out.push(current);
    } else if (current && name !== undefined && raw !== undefined) {
      const v = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      current.set(name.toLowerCase(), v);
    }
    if (ITEM.lastIndex >= value.length) break;
  }
  return out;
}

function decodeClaims(encoded: string): ChallengeRead {
  const maxEncoded = Math.ceil(MAX_CLAIMS_REQUEST_LENGTH / 3) * 4;
  if (encoded.length > maxEncoded || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
    return { problem: 'the claims are not base64 of at most 2 KB' };
  }
  const parsed = parseClaimsRequest(Buffer.from(encoded, 'base64').toString('utf8'));
  return parsed.ok ? { claims: parsed.json } : { problem: `the claims request ${parsed.problem}` };
}

/**
 * Answers the app's claims challenge with a fresh login asking for exactly those claims: a navigation is
 * redirected to it; fetch/XHR gets 401 with `login_url` (back to the page that made the call), as a request
 * without a session does under auto-login. The app's own answer is not passed on.
 */
export async function answerClaimsChallenge(target: ClaimsChallengeTarget, claimsJson: string): Promise<void> {
  const { reply, ingress } = target;
  const request = reply.request;
  const via = loginResponseKind(request.method, request.headers) === 'redirect' ? 'redirect' : 'challenge';
  request.log.info(
    { claimsFingerprint: claimsFingerprint(claimsJson), navigation: via === 'redirect' },
    'the app answered with a claims challenge; sending the browser to log in again with those claims',
  );
  // The same answer as a rule's step-up: one place writes it.
  await answerVerdict(request, reply, { kind: 'step_up', via, claims: claimsJson }, ingress);
}
