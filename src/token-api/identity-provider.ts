import { invalidRequest } from './api-error.js';
import type { RequestBody } from './request-body.js';

/** The one identity provider vestibule serves; `azuread` is Texas' older alias for it. */
export const ENTRA_ID = 'entra_id';
const ALIASES: ReadonlySet<string> = new Set([ENTRA_ID, 'azuread']);

/**
 * The `identity_provider` field, checked: `entra_id` (or `azuread`), else 400 `invalid_request`. The value is
 * normalised so both spellings share cache entries, as they share one enum variant in Texas.
 */
export function identityProviderOf(body: RequestBody): typeof ENTRA_ID {
  const name = body.requiredString('identity_provider');
  if (!ALIASES.has(name)) throw invalidRequest(unsupportedProvider(name));
  return ENTRA_ID;
}

/** Texas' wording; the name is echoed JSON-safe and shortened. */
export function unsupportedProvider(name: string): string {
  return `identity provider '${name.slice(0, 64)}' is not supported`;
}
