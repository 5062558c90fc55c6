import { invalidRequest, type TokenApiError } from './api-error.js';
import type { RequestBody } from './request-body.js';

/** The one identity provider vestibule serves; `azuread` is Texas' older alias for it. */
export const ENTRA_ID = 'entra_id';
const ENTRA_ALIASES: ReadonlySet<string> = new Set([ENTRA_ID, 'azuread']);
/** The other values of Texas' `identity_provider` enum: known to Texas, never enabled here. */
const NOT_ENABLED: ReadonlySet<string> = new Set(['tokenx', 'maskinporten', 'idporten']);
const ALL = [ENTRA_ID, 'azuread', ...NOT_ENABLED].join(', ');

/** What the `identity_provider` field names: Entra ID, or one of Texas' providers that is not enabled here. */
export type ProviderChoice = { readonly enabled: true; readonly name: typeof ENTRA_ID } | NotEnabled;

interface NotEnabled {
  readonly enabled: false;
  /** Texas' 400 `invalid_request` for it (the introspection answers its description with `active:false`). */
  readonly error: TokenApiError;
}

/**
 * The `identity_provider` field: `entra_id` (or `azuread`, normalised so both share cache entries, as they share
 * one enum variant in Texas); `tokenx`, `maskinporten` and `idporten` are Texas providers that are not enabled
 * (Texas' wording); any other value is not a provider at all and is refused as malformed input.
 */
export function chooseProvider(body: RequestBody): ProviderChoice {
  const name = body.requiredString('identity_provider');
  if (ENTRA_ALIASES.has(name)) return { enabled: true, name: ENTRA_ID };
  if (NOT_ENABLED.has(name)) return { enabled: false, error: invalidRequest(notEnabled(name)) };
  throw invalidRequest(`unknown variant '${name.slice(0, 64)}' in field 'identity_provider': expected one of ${ALL}`);
}

/** The provider for a token request: Entra ID, else 400 `invalid_request` as Texas answers. */
export function identityProviderOf(body: RequestBody): typeof ENTRA_ID {
  const choice = chooseProvider(body);
  if (!choice.enabled) throw choice.error;
  return choice.name;
}

/** Texas' description for a provider it knows but that is not configured (`ApiError::IdentityProviderNotEnabled`). */
export function notEnabled(name: string): string {
  return `identity provider '${name}' is not enabled`;
}
