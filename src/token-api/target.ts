import { invalidRequest } from './api-error.js';

/** One NAIS name part (cluster, namespace, application): a DNS label, so the dotted form stays unambiguous. */
const NAME_PART = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Visible ASCII without space: a scope with whitespace would ask Entra for several scopes at once. */
const SCOPE_CHARS = /^[\x21-\x7e]+$/;
const MAX_TARGET_LENGTH = 512;

/**
 * The Entra scope for a Texas `target`: `api://<…>/.default` is passed as is, `cluster:namespace:app` becomes
 * `api://cluster.namespace.app/.default` (the NAIS naming of app registrations). Anything else is refused with
 * 400 `invalid_request` before Entra is asked, including whitespace, which would smuggle in a second scope.
 */
export function targetToScope(target: string): string {
  if (target.length > MAX_TARGET_LENGTH) throw invalidTarget(target, `longer than ${MAX_TARGET_LENGTH} characters`);
  if (target.startsWith('api://')) {
    const resource = target.slice('api://'.length, -'/.default'.length);
    if (!target.endsWith('/.default') || resource === '' || !SCOPE_CHARS.test(target)) {
      throw invalidTarget(target, 'expected api://<resource>/.default');
    }
    return target;
  }
  const parts = target.split(':');
  if (parts.length === 3 && parts.every((p) => NAME_PART.test(p))) return `api://${parts.join('.')}/.default`;
  throw invalidTarget(target, 'expected <cluster>:<namespace>:<application> or api://<resource>/.default');
}

function invalidTarget(target: string, why: string): Error {
  const shown = target.length > 80 ? `${target.slice(0, 80)}…` : target;
  return invalidRequest(`invalid field 'target' (${JSON.stringify(shown)}): ${why}`);
}
