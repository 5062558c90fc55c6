/**
 * Scope → resource → audience, as Entra does it for v2 tokens (entra.md D.4 §4): `api://<clientId>/.default`,
 * `api://<cluster>.<ns>.<app>/.default` and `<clientId>/.default` all give `aud` = the target's client id;
 * one resource per request; pre-authorization enforced. Pure functions over the client registry.
 */
import { EntraError } from './errors.js';
import type { MockClient } from './types.js';

/** Microsoft Graph's application id: the audience of tokens for resource-less logins. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_RESOURCES = new Set(['https://graph.microsoft.com', GRAPH_APP_ID]);

/** Scopes that name no resource. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/** A resolved resource: a registered app, or Microsoft Graph. */
export type Target = { kind: 'client'; client: MockClient } | { kind: 'graph' };

/** The scopes of one request, split into the OIDC ones and those of its single resource. */
export interface ResolvedScope {
  target: Target;
  /** Permission names at the resource, e.g. `.default`. */
  names: string[];
  oidc: string[];
}

export function splitScope(scope: string): string[] {
  return scope.split(/\s+/).filter((s) => s.length > 0);
}

/** `api://x/.default` → `{resource:'api://x', name:'.default'}`; a bare name such as `User.Read` is Graph's. */
function parseScopeItem(item: string): { resource: string; name: string } {
  const schemeEnd = item.indexOf('://');
  const slash = item.indexOf('/', schemeEnd >= 0 ? schemeEnd + 3 : 0);
  if (slash < 0) {
    if (schemeEnd >= 0)
      throw new EntraError(
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${item} is not valid.`,
      );
    return { resource: 'https://graph.microsoft.com', name: item };
  }
  return { resource: item.slice(0, slash), name: item.slice(slash + 1) };
}

/** Finds the app (or Graph) a resource identifier names; undefined when the tenant has no such resource. */
export function resolveResource(resource: string, clients: ReadonlyMap<string, MockClient>): Target | undefined {
  if (GRAPH_RESOURCES.has(resource)) return { kind: 'graph' };
  const byId = clients.get(resource.startsWith('api://') ? resource.slice('api://'.length) : resource);
  if (byId !== undefined) return { kind: 'client', client: byId };
  if (!resource.startsWith('api://')) return undefined;
  const dotted = resource.slice('api://'.length);
  for (const client of clients.values()) {
    if (client.name?.split(':').join('.') === dotted) return { kind: 'client', client };
  }
  return undefined;
}

export function targetAudience(target: Target): string {
  return target.kind === 'graph' ? GRAPH_APP_ID : target.client.clientId;
}

/** Whether `requesterId` may get tokens for `target`: itself, Graph, or listed in `preAuthorizedClientIds`. */
export function isPreAuthorized(target: Target, requesterId: string): boolean {
  if (target.kind === 'graph' || target.client.clientId === requesterId) return true;
  const allowed = target.client.preAuthorizedClientIds;
  return allowed === undefined || allowed.includes(requesterId);
}

/**
 * Resolves a scope string that must address exactly one resource. `multiResourceCode` differs by flow in Entra
 * (700022 for client credentials and OBO, 28000 otherwise). A scope with only OIDC scopes resolves to Graph.
 */
export function resolveScope(
  scope: string,
  clients: ReadonlyMap<string, MockClient>,
  multiResourceCode: number,
): ResolvedScope {
  const items = splitScope(scope);
  const oidc = items.filter((s) => OIDC_SCOPES.has(s));
  const parsed = items.filter((s) => !OIDC_SCOPES.has(s)).map(parseScopeItem);
  const resources = [...new Set(parsed.map((p) => p.resource))];
  if (resources.length > 1) {
    throw new EntraError(
      'invalid_scope',
      multiResourceCode,
      `The provided value for the input parameter 'scope' is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
    );
  }
  const resource = resources.at(0);
  if (resource === undefined) return { target: { kind: 'graph' }, names: ['User.Read'], oidc };
  const target = resolveResource(resource, clients);
  if (target === undefined) {
    throw new EntraError(
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }
  return { target, names: [...new Set(parsed.map((p) => p.name))], oidc };
}

/** The `scp` claim: `.default` on a NAIS app grants `defaultaccess`. */
export function scpClaim(resolved: ResolvedScope): string {
  if (resolved.target.kind === 'graph') return ['openid', 'profile', 'email', ...resolved.names].join(' ');
  return [...new Set(resolved.names.map((n) => (n === '.default' ? 'defaultaccess' : n)))].join(' ');
}
