import type { TokenRule } from '../config/settings.js';

/**
 * The groups of a token's user, as far as they are known: the token's `groups` claim (or none when the claim is
 * absent and nothing says it was left out), or the answer of Microsoft Graph when Entra left them out (overage),
 * or `unavailable` when they were left out and Graph could not be asked.
 */
export type GroupsFact =
  | { readonly kind: 'known'; readonly ids: readonly string[]; readonly from: 'token' | 'graph' }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** What a validated access token says about who may use it, for the rules to judge. */
export interface TokenClaims {
  /** `roles`: app roles (application tokens, and users assigned app roles). */
  readonly roles: readonly string[];
  /** `scp`, split: delegated scopes (user tokens). */
  readonly scopes: readonly string[];
  /** `azp`: the client id of the app that asked for the token. */
  readonly azp: string | undefined;
  /** `acrs`: the Conditional Access authentication contexts the user satisfied. */
  readonly acrs: readonly string[];
  readonly groups: GroupsFact;
}

/** The token a protected path was asked with, and whether it is one. */
export type TokenState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'valid'; readonly source: 'session' | 'bearer'; readonly claims: TokenClaims };

/**
 * The protected-path facts of a request (VESTIBULE_REQUIRE_TOKEN_PATHS): no rule matches, or the rules that do,
 * the caller allow-list and the token they are to be judged against. Judged by `decideAccess`.
 */
export type ProtectedFacts =
  | { readonly protected: false }
  | {
      readonly protected: true;
      /** Every rule whose pattern matches the path; each must hold. */
      readonly rules: readonly TokenRule[];
      /**
       * Client ids whose tokens may be used here (AZURE_APP_PRE_AUTHORIZED_APPS plus this app), or undefined when
       * the list is unset and any `azp` passes.
       */
      readonly allowedCallers: ReadonlySet<string> | undefined;
      readonly token: TokenState;
    };

/** The facts of a path no protected-path rule covers. */
export const NOT_PROTECTED: ProtectedFacts = { protected: false };

/** The roles of a JWT payload's `roles` claim (strings only). */
export function rolesOf(claims: Readonly<Record<string, unknown>>): string[] {
  return stringArray(claims.roles);
}

/** The scopes of a `scp` claim (space-separated). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  return typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
}

/** The strings of a claim that should be an array of strings; anything else counts as empty. */
export function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Whether Entra left the groups out of a token (groups overage): `_claim_names.groups` (JWT access and ID
 * tokens) or `hasgroups: true` (implicit flow). The groups are then unknown, never "none".
 */
export function groupsOverage(claims: Readonly<Record<string, unknown>>): boolean {
  if (claims.hasgroups === true) return true;
  const names = claims._claim_names;
  return typeof names === 'object' && names !== null && 'groups' in names;
}
