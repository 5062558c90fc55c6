/**
 * startMockEntra(): a strict, deterministic fake of Entra ID v2.0 over real HTTP, for integration tests, the demo
 * and the benchmark. Layout follows Entra (`/{tid}/v2.0/.well-known/openid-configuration`, `/{tid}/oauth2/v2.0/*`,
 * `/{tid}/discovery/v2.0/keys`), plus `/_mock/*` controls for tests in other processes. See {@link MockEntra}.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAuthorizeGet, handleAuthorizePost } from './authorize.js';
import { createContext } from './context.js';
import type { MockContext } from './context.js';
import { handleControl, resetCounters, revokeRefreshTokens, setLifetimes } from './control.js';
import { handleDiscovery, handleJwks } from './discovery.js';
import { handleGraph } from './graph.js';
import { readRequest, textReply, writeReply } from './http-io.js';
import type { MockRequest, Reply } from './http-io.js';
import { SigningKeyRing } from './keys.js';
import { handleLogout } from './logout.js';
import { handleToken } from './token-endpoint.js';
import { mintAccessToken } from './token-issuer.js';
import type { MintOptions } from './token-issuer.js';
import type {
  EndSessionCall,
  GrantType,
  JsonWebKey,
  MockEntraOptions,
  MockFailure,
  MockUser,
  RequestLogEntry,
} from './types.js';
import { defaultUsers } from './users.js';

export type {
  EndSessionCall,
  GrantType,
  JsonWebKey,
  MockClient,
  MockEntraOptions,
  MockFailure,
  MockFederatedCredential,
  MockFederatedIssuer,
  MockUser,
  RequestLogEntry,
} from './types.js';

export const DEFAULT_TENANT_ID = '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69';

/** A running mock Entra ID. All state is per instance. */
export interface MockEntra {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `${url}/${tenantId}/v2.0` */
  readonly issuer: string;
  /** `${issuer}/.well-known/openid-configuration` */
  readonly wellKnownUrl: string;
  readonly tenantId: string;
  readonly tokenEndpoint: string;
  /** `${url}/graph`: the Microsoft Graph stand-in (users' groups, for groups overage); see graph.ts. */
  readonly graphUrl: string;
  /** Configured users plus those created by typing a name on the login page. */
  readonly users: readonly MockUser[];
  /** Token requests with a known grant_type, by grant (all when omitted); injected and real failures included. */
  grantCount(grant?: GrantType): number;
  /** Every request except `/_mock/*`, oldest first. */
  requests(): readonly RequestLogEntry[];
  endSessionCalls(): readonly EndSessionCall[];
  /** Query parameters of the latest GET to the authorize endpoint. */
  lastAuthorizeParams(): Readonly<Record<string, string>> | undefined;
  /** Clears grant counts, the request log and recorded end-session calls. */
  resetCounters(): void;
  /** Queues a failure (`times` default Infinity); a never-ending one for the same grant filter is replaced. */
  fail(failure: MockFailure): void;
  clearFailures(): void;
  setLifetimes(l: { accessToken?: number; idToken?: number }): void;
  /** A new key signs from now on; the old key stays in the JWKS. */
  rotateSigningKey(): Promise<void>;
  /** The JWKS then only holds the current key. */
  removeOldSigningKeys(): void;
  /** Refresh tokens issued so far (of `oid`, or all) are revoked: later use gives invalid_grant AADSTS50173. */
  revokeRefreshTokens(oid?: string): void;
  /** Mint a token exactly as the token endpoint would, for tests (e.g. a user access token for audience = some client). */
  mintAccessToken(o: MintOptions): Promise<string>;
  /**
   * The current private signing key (for tests that forge tokens). Servers in one process share a key pool
   * (key generation is slow), so two mocks started in the same process sign with the same first key.
   */
  signingKey(): { privateJwk: JsonWebKey; publicJwk: JsonWebKey; kid: string };
  close(): Promise<void>;
}

async function route(ctx: MockContext, req: MockRequest): Promise<Reply> {
  const t = `/${ctx.tenantId}`;
  switch (req.path) {
    case `${t}/v2.0/.well-known/openid-configuration`:
      return handleDiscovery(ctx, req);
    case `${t}/discovery/v2.0/keys`:
      return handleJwks(ctx, req);
    case `${t}/oauth2/v2.0/authorize`:
      if (req.method === 'GET') return handleAuthorizeGet(ctx, req);
      if (req.method === 'POST') return handleAuthorizePost(ctx, req);
      return textReply(405, 'Method Not Allowed');
    case `${t}/oauth2/v2.0/token`:
      return handleToken(ctx, req);
    case `${t}/oauth2/v2.0/logout`:
      if (req.method === 'GET' || req.method === 'POST') return handleLogout(ctx, req);
      return textReply(405, 'Method Not Allowed');
    default:
      if (req.path.startsWith('/_mock/')) return handleControl(ctx, req);
      if (req.path.startsWith('/graph/')) return handleGraph(ctx, req);
      return textReply(404, 'Not Found');
  }
}

function checkOptions(options: MockEntraOptions): void {
  const ids = new Set<string>();
  for (const client of options.clients ?? []) {
    if (ids.has(client.clientId)) throw new Error(`mock-entra: duplicate clientId ${client.clientId}`);
    ids.add(client.clientId);
    if (client.name !== undefined && client.name.split(':').length !== 3) {
      throw new Error(`mock-entra: client name '${client.name}' must be 'cluster:namespace:app'`);
    }
  }
}

/** Starts a mock Entra ID on `host:port` (default 127.0.0.1, a free port). */
export async function startMockEntra(options: MockEntraOptions = {}): Promise<MockEntra> {
  checkOptions(options);
  const keys = await SigningKeyRing.create();
  const server = createServer();
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const ctx = createContext({
    url: `http://${urlHost}:${port}`,
    tenantId: options.tenantId ?? DEFAULT_TENANT_ID,
    clients: options.clients ?? [],
    users: [...(options.users ?? defaultUsers())],
    keys,
    clock: options.clock ?? Date.now,
    lifetimes: { accessToken: options.accessTokenLifetime ?? 3600, idToken: options.idTokenLifetime ?? 3600 },
    federatedIssuers: options.federatedIssuers ?? [],
  });
  server.on('request', (req, res) => {
    void (async () => {
      let reply: Reply;
      let path = req.url ?? '/';
      try {
        const request = await readRequest(req);
        path = request.path;
        reply = await route(ctx, request);
      } catch (err) {
        reply = textReply(500, `mock-entra internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!path.startsWith('/_mock/'))
        ctx.requestLog.push({
          path,
          grant: reply.grant,
          status: reply.status,
          ...(reply.fields ? { fields: reply.fields } : {}),
        });
      writeReply(res, reply);
    })();
  });

  return {
    url: ctx.url,
    issuer: ctx.issuer,
    wellKnownUrl: `${ctx.issuer}/.well-known/openid-configuration`,
    tenantId: ctx.tenantId,
    tokenEndpoint: ctx.tokenEndpoint,
    graphUrl: `${ctx.url}/graph`,
    get users() {
      return ctx.users;
    },
    grantCount: (grant) =>
      grant === undefined
        ? [...ctx.grantCounts.values()].reduce((a, b) => a + b, 0)
        : (ctx.grantCounts.get(grant) ?? 0),
    requests: () => [...ctx.requestLog],
    endSessionCalls: () => [...ctx.endSessionCalls],
    lastAuthorizeParams: () => ctx.lastAuthorizeParams,
    resetCounters: () => {
      resetCounters(ctx);
    },
    fail: (failure) => {
      ctx.failures.add(failure);
    },
    clearFailures: () => {
      ctx.failures.clear();
    },
    setLifetimes: (l) => {
      setLifetimes(ctx, l);
    },
    rotateSigningKey: () => ctx.keys.rotate(),
    removeOldSigningKeys: () => {
      ctx.keys.removeOld();
    },
    revokeRefreshTokens: (oid) => {
      revokeRefreshTokens(ctx, oid);
    },
    mintAccessToken: (o) => mintAccessToken(ctx, o),
    signingKey: () => {
      const key = ctx.keys.current();
      return { privateJwk: key.privateJwk, publicJwk: { ...key.publicJwk, kid: key.kid, alg: 'RS256' }, kid: key.kid };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
