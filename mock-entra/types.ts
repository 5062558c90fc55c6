/**
 * Public types of the mock Entra ID. They live here (not in server.ts) so that every module can use them
 * without import cycles; server.ts re-exports them as the mock's programmatic API.
 */
import type { JWK } from 'jose';

/** A JSON Web Key. Node's typings have no global `JsonWebKey` outside the DOM lib, so jose's `JWK` stands in. */
export type JsonWebKey = JWK;

/** An app registration: one confidential client of the tenant. */
export interface MockClient {
  /** GUID, like Entra's application (client) id. */
  clientId: string;
  /** `cluster:namespace:app`; the app is then also addressable as `api://cluster.namespace.app`. */
  name?: string;
  /** Public keys for `private_key_jwt` (matched by `kid`). */
  publicJwks?: { keys: JsonWebKey[] };
  /** Secret for `client_secret_post` / `client_secret_basic`. */
  clientSecret?: string;
  /** Exact-match redirect URIs, checked at authorize and at token. */
  redirectUris?: string[];
  /** Exact-match post-logout redirect URIs, checked at the end-session endpoint. */
  postLogoutRedirectUris?: string[];
  /** Clients that may get client-credentials / OBO tokens for THIS app; undefined = any registered client. */
  preAuthorizedClientIds?: string[];
  /** Workload identity: tokens of external issuers accepted as client assertions (federated-credentials.ts). */
  federatedCredentials?: MockFederatedCredential[];
  /**
   * Microsoft Graph application permissions granted to this app with admin consent: the `roles` of its Graph app
   * tokens, which the Graph stand-in checks. Default `['GroupMember.Read.All']` (what groups overage needs).
   */
  graphApplicationPermissions?: string[];
}

/** A federated identity credential of an app registration (Entra: issuer, subject, audiences). */
export interface MockFederatedCredential {
  issuer: string;
  /** e.g. `system:serviceaccount:<namespace>:<service account>`. */
  subject: string;
  /** Default `[api://AzureADTokenExchange]` (federated-credentials.ts). */
  audiences?: string[];
}

/** An external issuer the mock trusts the keys of, e.g. a Kubernetes cluster's service-account issuer. */
export interface MockFederatedIssuer {
  issuer: string;
  jwks: { keys: JsonWebKey[] };
}

/** An employee who can sign in on the login page. */
export interface MockUser {
  username: string;
  name: string;
  oid: string;
  navIdent: string;
  groups: string[];
  /**
   * Entra leaves the groups out of this user's tokens (groups overage, as for a member of more than 200):
   * `_claim_names`/`_claim_sources` instead of `groups`; the groups are then only in the Graph stand-in.
   */
  groupsOverage?: boolean;
}

export interface MockEntraOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69'. */
  tenantId?: string;
  clients?: MockClient[];
  /** Default: three plausible employees. */
  users?: MockUser[];
  /** Seconds, default 3600. */
  accessTokenLifetime?: number;
  /** Seconds, default 3600. */
  idTokenLifetime?: number;
  /** Epoch ms; default Date.now. Used for every iat/exp/code-expiry check. */
  clock?: () => number;
  /** External issuers (e.g. a Kubernetes cluster) whose keys verify federated client assertions. */
  federatedIssuers?: MockFederatedIssuer[];
}

/** The grant types the token endpoint knows, in Entra's spelling. */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/** Narrows a form value to a known grant type. */
export function isGrantType(value: string | undefined): value is GrantType {
  return (GRANT_TYPES as readonly (string | undefined)[]).includes(value);
}

/** A scripted misbehaviour of the mock; `times` defaults to Infinity. */
export type MockFailure =
  | {
      kind: 'status';
      status: number;
      grant?: GrantType;
      times?: number;
      /** Sent as `Retry-After`: delay-seconds, or an HTTP date (as Entra does when it throttles with 429). */
      retryAfter?: number | string;
    }
  | { kind: 'delay'; ms: number; grant?: GrantType; times?: number }
  | { kind: 'invalid_grant'; grant?: GrantType; times?: number }
  | { kind: 'interaction_required'; grant?: GrantType; times?: number }
  | { kind: 'jwks_down'; times?: number }
  /** The Graph stand-in (`/graph/v1.0/…`) answers 503. */
  | { kind: 'graph_down'; times?: number };

/** One line of the mock's request log. */
export interface RequestLogEntry {
  path: string;
  grant?: GrantType;
  status: number;
  /** Token requests: the names of the form parameters sent (values are never kept). */
  fields?: readonly string[];
}

/** One recorded call to the end-session endpoint. */
export interface EndSessionCall {
  idTokenHint?: string;
  postLogoutRedirectUri?: string;
  state?: string;
  logoutHint?: string;
}
