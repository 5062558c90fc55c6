/**
 * A stand-in for the two Microsoft Graph calls that resolve a user's groups when Entra leaves them out of a token
 * (groups overage): `POST /graph/v1.0/users/{id}/checkMemberGroups` and `…/getMemberObjects`. Like Graph it wants
 * an app token for Graph (client credentials, `https://graph.microsoft.com/.default`) issued by this tenant, and
 * answers Graph's error shape otherwise; the token must carry an application permission that allows the call
 * (`GroupMember.Read.All` or wider, see `MockClient.graphApplicationPermissions`). A `graph_down` failure makes it
 * answer 503.
 */
import type { MockContext } from './context.js';
import { jsonReply } from './http-io.js';
import type { MockRequest, Reply } from './http-io.js';
import { GRAPH_APP_ID } from './scopes.js';
import { verifyOwnToken } from './tokens.js';

/** Application permissions that let an app call checkMemberGroups/getMemberObjects on any user (least first). */
const MEMBERSHIP_PERMISSIONS = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'];

const ROUTE = /^\/graph\/v1\.0\/users\/([^/]+)\/(checkMemberGroups|getMemberObjects)$/;

function graphError(status: number, code: string, message: string): Reply {
  return jsonReply(status, { error: { code, message } });
}

export async function handleGraph(ctx: MockContext, req: MockRequest): Promise<Reply> {
  if (ctx.failures.takeGraphDown()) return graphError(503, 'serviceNotAvailable', 'The service is unavailable.');
  const m = ROUTE.exec(req.path);
  if (m === null) return graphError(404, 'Request_ResourceNotFound', 'No such Graph resource in the stand-in.');
  if (req.method !== 'POST') return graphError(405, 'Request_BadRequest', 'POST only.');
  const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (auth?.[1] === undefined) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const verified = await verifyOwnToken(auth[1], ctx.keys, ctx.issuer);
  if (!verified.ok) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  const t = verified.payload;
  if (t.aud !== GRAPH_APP_ID || (t.exp ?? 0) * 1000 <= ctx.clock()) {
    return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
  }
  const roles = Array.isArray(t.roles) ? (t.roles as unknown[]) : [];
  if (t.idtyp !== 'app' || !MEMBERSHIP_PERMISSIONS.some((p) => roles.includes(p))) {
    // As Graph: an app token without a granted membership permission (admin consent) is refused like a user's.
    return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
  const id = decodeURIComponent(m[1] ?? '');
  const user = ctx.users.find((u) => u.oid === id || u.username.toLowerCase() === id.toLowerCase());
  if (user === undefined) {
    return graphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist.`);
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(req.body) as Record<string, unknown>;
  } catch {
    return graphError(400, 'Request_BadRequest', 'The request body is not JSON.');
  }
  if (m[2] === 'getMemberObjects') return jsonReply(200, { value: [...user.groups] });
  const asked = body.groupIds;
  if (!Array.isArray(asked) || asked.length > 20 || !asked.every((g) => typeof g === 'string')) {
    return graphError(400, 'Request_BadRequest', 'groupIds must be an array of at most 20 ids.');
  }
  return jsonReply(200, { value: asked.filter((g) => user.groups.includes(g)) });
}
