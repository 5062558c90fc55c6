import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './deps.js';
import { single } from '../request/request-facts.js';
import { sendError } from '../errors/answers.js';
import { sidHash } from '../login/sid-hash.js';

/**
 * `GET /oauth2/logout/frontchannel?sid=<sid>[&iss=<issuer>]`: the identity provider ends every session of one
 * of its sessions (`sid`) through the store's sid index. Entra sends only `sid`; when `iss` is present it must
 * be our issuer (Wonderwall ignores `iss`). Without `sid`: 202 with an empty body, as Wonderwall. The answer may be framed by the IdP's logout page, so no frame-denying header is sent here.
 */
export function frontchannelLogoutRoute(app: FastifyInstance, prefix: string, d: RouteDeps): void {
  app.get(`${prefix}/oauth2/logout/frontchannel`, { config: { routeClass: 'logout' } }, async (request, reply) => {
    // No cookie is cleared here: a cross-site link to this unauthenticated URL would otherwise log anyone out
    // (logout CSRF). Entra calls it from an iframe, where Lax cookies are neither sent nor set; the sessions
    // end in the store, by sid, and with them every replica's cache.
    reply.header('cache-control', 'no-store').header('content-type', 'text/plain; charset=utf-8');
    const sid = single(request.query, 'sid');
    const iss = single(request.query, 'iss');
    // Without a sid there is nothing to end: 202 and an empty body, as Wonderwall answers.
    if (!sid) return reply.code(202).send();
    if (sid.length > 256) return sendError(reply, 'FRONTCHANNEL_SID_MISSING');
    if (iss !== undefined && !d.provider.validator.isOurIssuer(iss)) {
      request.log.warn('front-channel logout with a foreign issuer ignored');
      return sendError(reply, 'FRONTCHANNEL_FOREIGN_ISSUER');
    }
    const ended = await d.sessions.destroyIndexed(d.keys.bySid(sid));
    if (ended > 0) d.metrics.logouts.inc({ kind: 'front_channel' }, ended);
    // Wonderwall counts each front-channel call whose delete went through, whether a session was found or not.
    d.metrics.observeWonderwallLogout('front_channel');
    // Never the sid itself: whoever reads the logs could end that session through this unauthenticated endpoint.
    request.log.info({ ended, sidHash: sidHash(d.keyring, sid) }, 'front-channel logout');
    return reply.code(200).send('ok\n');
  });
}
