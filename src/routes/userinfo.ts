import type { FastifyInstance } from 'fastify';
import { decodeJwt, type JWTPayload } from 'jose';
import { groupsFact, sessionTokenOf } from '../access/require-token.js';
import { rolesOf } from '../access/token-facts.js';
import { cookieValues } from '../cookies/cookie-header.js';
import { sessionCookieName } from '../cookies/our-cookies.js';
import { noStore, sendError } from '../errors/answers.js';
import { ingressOf } from '../request/request-facts.js';
import type { RouteDeps } from './deps.js';

/** What `GET /oauth2/userinfo` answers: the signed-in user's non-secret claims, never a token. */
export interface UserInfo {
  readonly oid?: string;
  readonly name?: string;
  readonly preferred_username?: string;
  readonly NAVident?: string;
  /** Group object ids; on overage, those of the rules' groups Microsoft Graph says the user is in. */
  readonly groups?: readonly string[];
  /** True when Entra left the groups out and they could not be looked up: `groups` is then absent. */
  readonly groups_overage?: true;
  readonly roles: readonly string[];
}

/**
 * `GET /oauth2/userinfo`: who is signed in, for a single-page app that needs no token of its own. The claims
 * come from the session's access token (refreshed first when due, as for a proxied request), with the ID
 * token's name and username as fallback; the token itself never leaves vestibule. On groups overage the groups
 * come from Microsoft Graph (only those the protected-path rules name, as the decision sees them). 401
 * `unauthenticated` without a session.
 */
export function userinfoRoute(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  app.get(`${prefix}/oauth2/userinfo`, { config: { routeClass: 'session' } }, async (request, reply) => {
    const name = sessionCookieName(ingressOf(request, d.ingresses));
    const active = await d.manager.authenticate(cookieValues(request.headers.cookie, name));
    if (!active) return sendError(reply, 'SESSION_UNAUTHENTICATED');
    let claims: JWTPayload = {};
    try {
      claims = decodeJwt(active.accessToken);
    } catch {
      // An opaque access token (a custom VESTIBULE_SCOPES resource): only the ID token's claims are known.
    }
    const record = active.session.record;
    // The same key as the proxy's decision: one cached Graph answer per session, whoever asked first.
    const groups = await groupsFact(claims, sessionTokenOf(active), d.groups);
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const info: UserInfo = {
      oid: str(claims.oid) ?? record.claims.oid,
      name: str(claims.name) ?? record.claims.name,
      preferred_username: str(claims.preferred_username) ?? record.claims.preferredUsername,
      NAVident: str(claims.NAVident),
      ...(groups.kind === 'known' ? { groups: groups.ids } : { groups_overage: true }),
      roles: rolesOf(claims),
    };
    return noStore(reply).send(info);
  });
}
