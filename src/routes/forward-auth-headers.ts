import type { FastifyReply } from 'fastify';

/** Wonderwall's header for the ID token on forward-auth's 204 (`session.forward-auth-set-headers`). */
export const FORWARD_AUTH_TOKEN_HEADER = 'x-wonderwall-forward-auth-token';

/**
 * Adds `X-Wonderwall-Forward-Auth-Token: <ID token>` to a forward-auth 204 when `enabled`
 * (VESTIBULE_FORWARD_AUTH_SET_HEADERS), as Wonderwall does: the ID token, not the access token (Wonderwall
 * commit "use id_token instead of access_token for forward-auth headers"). A session without an ID token gets
 * no header rather than an empty one. Call it only on the 204, never on a 401.
 */
export function setForwardAuthHeaders(
  reply: FastifyReply,
  enabled: boolean,
  idToken: string | null | undefined,
): FastifyReply {
  if (enabled && idToken) reply.header(FORWARD_AUTH_TOKEN_HEADER, idToken);
  return reply;
}
