/**
 * The state of one mock server: registry, keys, issued codes and refresh tokens, counters and logs. One
 * {@link MockContext} per server, passed to every handler; nothing is kept at module level.
 */
import type { ClaimContext, UserClaims } from './claims.js';
import type { RequestedClaims } from './claims-request.js';
import { FailureQueue } from './failures.js';
import type { SigningKeyRing } from './keys.js';
import type { EndSessionCall, GrantType, MockClient, MockFederatedIssuer, MockUser, RequestLogEntry } from './types.js';

/** An authorization code and everything it is bound to. */
export interface AuthCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string;
  scope: string;
  user: MockUser;
  sid: string;
  /** Epoch ms. */
  issuedAt: number;
  used: boolean;
  /** Epoch seconds; set when `max_age` was requested. */
  authTime?: number;
  acr?: string;
  /** What the authorize request's `claims` asked for (step-up `acrs`, `xms_cc`). */
  claims?: RequestedClaims | undefined;
}

/** What a refresh token stands for: a user's login at a client. */
export interface RefreshGrant {
  clientId: string;
  user: UserClaims;
  scope: string;
  sid: string;
  /** Epoch ms. */
  issuedAt: number;
  revoked: boolean;
  authTime?: number;
  acr?: string;
  /** The login's claims request: refreshed tokens carry it on. */
  claims?: RequestedClaims | undefined;
}

export interface MockContext {
  readonly url: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly clients: ReadonlyMap<string, MockClient>;
  /** External issuers trusted for federated client assertions, by `iss`. */
  readonly federatedIssuers: ReadonlyMap<string, MockFederatedIssuer>;
  /** Mutable: the login page adds users typed by name. */
  readonly users: MockUser[];
  readonly keys: SigningKeyRing;
  readonly clock: () => number;
  readonly lifetimes: { accessToken: number; idToken: number };
  readonly codes: Map<string, AuthCode>;
  readonly refreshTokens: Map<string, RefreshGrant>;
  /** `clientId jti` → expiry (epoch s) of client assertions already used. */
  readonly seenAssertions: Map<string, number>;
  readonly failures: FailureQueue;
  readonly requestLog: RequestLogEntry[];
  readonly grantCounts: Map<GrantType, number>;
  readonly endSessionCalls: EndSessionCall[];
  lastAuthorizeParams: Record<string, string> | undefined;
}

export function createContext(o: {
  url: string;
  tenantId: string;
  clients: readonly MockClient[];
  users: MockUser[];
  keys: SigningKeyRing;
  clock: () => number;
  lifetimes: { accessToken: number; idToken: number };
  federatedIssuers?: readonly MockFederatedIssuer[];
}): MockContext {
  const issuer = `${o.url}/${o.tenantId}/v2.0`;
  return {
    url: o.url,
    tenantId: o.tenantId,
    issuer,
    tokenEndpoint: `${o.url}/${o.tenantId}/oauth2/v2.0/token`,
    clients: new Map(o.clients.map((c) => [c.clientId, c])),
    federatedIssuers: new Map((o.federatedIssuers ?? []).map((i) => [i.issuer, i])),
    users: o.users,
    keys: o.keys,
    clock: o.clock,
    lifetimes: o.lifetimes,
    codes: new Map(),
    refreshTokens: new Map(),
    seenAssertions: new Map(),
    failures: new FailureQueue(),
    requestLog: [],
    grantCounts: new Map(),
    endSessionCalls: [],
    lastAuthorizeParams: undefined,
  };
}

/** "Now" in epoch seconds, from the injected clock. */
export function nowSeconds(ctx: MockContext): number {
  return Math.floor(ctx.clock() / 1000);
}

/** The claim context for a token of `lifetime` seconds issued now. */
export function claimContext(ctx: MockContext, lifetime: number): ClaimContext {
  return { issuer: ctx.issuer, tenantId: ctx.tenantId, now: nowSeconds(ctx), lifetime };
}
