import { invalidRequest } from './api-error.js';

/** One NAIS name part (cluster, namespace, application): a DNS label, so the dotted form stays unambiguous. */
const NAME_PART = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Visible ASCII without space: a scope with whitespace would ask Entra for several scopes at once. */
const SCOPE_CHARS = /^[\x21-\x7e]+$/;
const MAX_TARGET_LENGTH = 512;

/**
 * The Entra scope for a Texas `target`: passed to Entra unchanged, as Texas does (`api://…/.default`,
 * `https://graph.microsoft.com/.default`, `<client id>/.default`, anything: Entra decides and its answer is
 * passed back), except `cluster:namespace:app`, which becomes `api://cluster.namespace.app/.default` (the NAIS
 * naming of app registrations, as the NAIS documentation promises for Texas). Refused with 400
 * `invalid_request` before Entra is asked: whitespace or control characters (a space would smuggle in a second
 * scope, `offline_access` for one) and targets longer than 512 characters.
 */
export function targetToScope(target: string): string {
  if (target.length > MAX_TARGET_LENGTH) throw invalidTarget(target, `longer than ${MAX_TARGET_LENGTH} characters`);
  if (!SCOPE_CHARS.test(target)) throw invalidTarget(target, 'one scope without whitespace or control characters');
  const parts = target.split(':');
  if (parts.length === 3 && parts.every((p) => NAME_PART.test(p))) return `api://${parts.join('.')}/.default`;
  return target;
}

function invalidTarget(target: string, why: string): Error {
  const shown = target.length > 80 ? `${target.slice(0, 80)}…` : target;
  return invalidRequest(`invalid field 'target' (${JSON.stringify(shown)}): ${why}`);
}
