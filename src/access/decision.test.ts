import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRule } from '../config/settings.js';
import { decideAccess, NOT_PROTECTED, type AccessFacts, type AccessVerdict, type DenyReason } from './decision.js';
import type { ProtectedFacts, TokenClaims, TokenState } from './token-facts.js';

const ACTIVE = { kind: 'active', accessToken: 'at' } as const;
const NONE = { kind: 'none' } as const;
const DOWN = { kind: 'unavailable' } as const;

const SELF = '0a1b2c3d-1111-4111-8111-000000000001';
const CALLER = '5e6f7a8b-2222-4222-8222-000000000002';
const STRANGER = '9c8d7e6f-3333-4333-8333-000000000003';
const G1 = '2d7f1c9e-4b3a-4f0e-9c1d-6a5b4e3f2a10';
const G2 = '8c4e2a6f-1d3b-4e7a-b5c9-0f1e2d3c4b5a';

const rule = (r: Partial<TokenRule> = {}): TokenRule => ({
  pattern: '/api/**',
  roles: [],
  scopes: [],
  groups: [],
  callers: [],
  acrs: [],
  ...r,
});
const claims = (c: Partial<TokenClaims> = {}): TokenClaims => ({
  roles: [],
  scopes: ['defaultaccess'],
  azp: SELF,
  acrs: [],
  groups: { kind: 'known', ids: [], from: 'token' },
  ...c,
});
/** Protected-path facts: the matching rules, the caller allow-list (unset by default) and the token. */
const protectedBy = (rules: TokenRule[], token: TokenState, allowedCallers?: ReadonlySet<string>): ProtectedFacts => ({
  protected: true,
  rules,
  allowedCallers,
  token,
});
const session = (c: Partial<TokenClaims> = {}): TokenState => ({ kind: 'valid', source: 'session', claims: claims(c) });
const bearer = (c: Partial<TokenClaims> = {}): TokenState => ({ kind: 'valid', source: 'bearer', claims: claims(c) });

const TOKEN_OK = protectedBy([rule()], bearer());
const NO_TOKEN = protectedBy([rule()], { kind: 'missing' });
const NO_ROLE = protectedBy([rule({ roles: ['admin'] })], session());
const PRE_AUTHORIZED = new Set([SELF, CALLER]);
const GROUPS_DOWN = { kind: 'unavailable', reason: 'Microsoft Graph lookup failed: 503' } as const;
const C1 = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });

const base: AccessFacts = {
  targetProblem: undefined,
  session: NONE,
  token: NOT_PROTECTED,
  autoLogin: false,
  loginExempt: false,
  navigation: true,
  upgrade: 'none',
  crossSite: false,
  unsafeMethod: false,
  csrfCheck: false,
  preflight: false,
};

const H2C = { kind: 'bad_request', reason: 'only websocket upgrades (GET) are proxied' } as const;
const CSWSH = { kind: 'forbidden', reason: 'websocket opened from another site' } as const;
const CSRF = { kind: 'forbidden', reason: 'cross-site request with a session' } as const;
const CROSS_POST = { unsafeMethod: true, crossSite: true, navigation: false } as const;

const forward = (accessToken: string | undefined): AccessVerdict => ({ kind: 'forward', accessToken });
const deny = (status: 401 | 403, why: DenyReason, reason: string, wwwAuthenticate?: string): AccessVerdict => ({
  kind: 'deny',
  status,
  why,
  wwwAuthenticate,
  reason,
});
const NO_TOKEN_401 = deny(401, 'token', 'no token', 'Bearer');
const NO_ROLE_403 = deny(
  403,
  'scope',
  'requires one of the roles admin',
  'Bearer error="insufficient_scope", error_description="requires one of the roles admin"',
);
const NOT_PRE_AUTHORIZED = deny(403, 'caller', 'the calling application (azp) is not pre-authorized');
const groupDenied = (...ids: string[]): AccessVerdict =>
  deny(
    403,
    'group',
    `requires membership of one of the groups ${ids.join(', ')}`,
    `Bearer error="insufficient_scope", error_description="requires membership of one of the groups ${ids.join(', ')}"`,
  );

// rule × request shape × session/token → verdict: every path through the proxy's decision.
const table: [string, Partial<AccessFacts>, AccessVerdict][] = [
  ['anonymous, no rules, auto-login off → forwarded without a token', {}, forward(undefined)],
  ['session, no rules → forwarded with its token', { session: ACTIVE }, forward('at')],
  ['anonymous navigation, auto-login → redirected to login', { autoLogin: true }, { kind: 'login', via: 'redirect' }],
  [
    'anonymous fetch/XHR, auto-login → 401 challenge with the login URL',
    { autoLogin: true, navigation: false },
    { kind: 'login', via: 'challenge' },
  ],
  ['anonymous, auto-login, exempt path → forwarded', { autoLogin: true, loginExempt: true }, forward(undefined)],
  ['session, auto-login → forwarded', { autoLogin: true, session: ACTIVE }, forward('at')],
  [
    'malformed target → 400 before anything else, even with a session on a protected path',
    { targetProblem: 'dot segments', session: ACTIVE, token: TOKEN_OK, autoLogin: true },
    { kind: 'bad_request', reason: 'dot segments' },
  ],
  [
    'store down, auto-login → 503 (a login loop would not help)',
    { session: DOWN, autoLogin: true },
    { kind: 'store_unavailable' },
  ],
  ['store down, auto-login off → forwarded unauthenticated (the app decides)', { session: DOWN }, forward(undefined)],
  ['store down, protected path, valid bearer → forwarded', { session: DOWN, token: TOKEN_OK }, forward(undefined)],
  ['protected path, no token → 401 Bearer challenge', { token: NO_TOKEN }, NO_TOKEN_401],
  [
    'protected path, no token, auto-login → 401, never a login redirect',
    { token: NO_TOKEN, autoLogin: true },
    NO_TOKEN_401,
  ],
  ['protected path, session lacking the role → 403', { session: ACTIVE, token: NO_ROLE }, NO_ROLE_403],
  [
    'protected path, valid token → forwarded with the session token',
    { session: ACTIVE, token: TOKEN_OK },
    forward('at'),
  ],
  ['protected path, bearer caller without session → forwarded', { token: TOKEN_OK }, forward(undefined)],
  [
    'protected path on an auto-login-exempt glob is still protected',
    { token: NO_TOKEN, autoLogin: true, loginExempt: true },
    NO_TOKEN_401,
  ],
  // Upgrades: only websockets are tunnelled (h2c smuggling), and not for a page of another site (CSWSH).
  ['websocket with a session → forwarded with its token', { upgrade: 'websocket', session: ACTIVE }, forward('at')],
  ['upgrade to anything else (h2c) → 400, even with a session', { upgrade: 'other', session: ACTIVE }, H2C],
  ['upgrade to anything else on a protected path → 400', { upgrade: 'other', token: TOKEN_OK }, H2C],
  ['cross-site websocket with a session → 403', { upgrade: 'websocket', crossSite: true, session: ACTIVE }, CSWSH],
  [
    'cross-site websocket without a session → 403 (the app may trust its own cookies)',
    { upgrade: 'websocket', crossSite: true },
    CSWSH,
  ],
  [
    'cross-site websocket, store down, auto-login → 403 before the store matters',
    { upgrade: 'websocket', crossSite: true, session: DOWN, autoLogin: true },
    CSWSH,
  ],
  [
    'cross-site websocket on a protected path with a valid token → 403',
    { upgrade: 'websocket', crossSite: true, token: TOKEN_OK },
    CSWSH,
  ],
  [
    'malformed target on a cross-site websocket → 400 first',
    { targetProblem: 'dot segments', upgrade: 'websocket', crossSite: true },
    { kind: 'bad_request', reason: 'dot segments' },
  ],
  // CSRF check (VESTIBULE_CSRF_CHECK): an unsafe method from another site with a session's token.
  [
    'cross-site unsafe method with a session, check on → 403',
    { ...CROSS_POST, session: ACTIVE, csrfCheck: true },
    CSRF,
  ],
  [
    'cross-site unsafe method with a session on a protected path, check on → 403',
    { ...CROSS_POST, session: ACTIVE, csrfCheck: true, token: TOKEN_OK },
    CSRF,
  ],
  [
    'cross-site unsafe method with a session, check off → forwarded with its token',
    { ...CROSS_POST, session: ACTIVE },
    forward('at'),
  ],
  [
    'cross-site unsafe method without a session, check on → forwarded',
    { ...CROSS_POST, csrfCheck: true },
    forward(undefined),
  ],
  [
    'cross-site unsafe method without a session, auto-login, check on → login as before',
    { ...CROSS_POST, csrfCheck: true, autoLogin: true },
    { kind: 'login', via: 'challenge' },
  ],
  [
    'cross-site unsafe method, store down, check on → forwarded without a token',
    { ...CROSS_POST, csrfCheck: true, session: DOWN },
    forward(undefined),
  ],
  [
    'same-site unsafe method with a session, check on → forwarded',
    { unsafeMethod: true, session: ACTIVE, csrfCheck: true },
    forward('at'),
  ],
  [
    'cross-site safe method with a session, check on → forwarded',
    { crossSite: true, session: ACTIVE, csrfCheck: true },
    forward('at'),
  ],
  // Invalid tokens (the validator's reason is passed on in the challenge).
  [
    'protected path, invalid token → 401 invalid_token',
    { token: protectedBy([rule()], { kind: 'invalid', reason: 'expired ("exp")' }) },
    deny(401, 'token', 'expired ("exp")', `Bearer error="invalid_token", error_description="expired ('exp')"`),
  ],
  // Roles and scopes: any one of either; alike for sessions and bearer callers.
  [
    'session with the role → forwarded',
    { session: ACTIVE, token: protectedBy([rule({ roles: ['admin'] })], session({ roles: ['admin'] })) },
    forward('at'),
  ],
  [
    'bearer with one of the scopes → forwarded',
    { token: protectedBy([rule({ scopes: ['a', 'b'] })], bearer({ scopes: ['b'] })) },
    forward(undefined),
  ],
  [
    'bearer with a scope where only a role would do → 403',
    { token: protectedBy([rule({ roles: ['admin'] })], bearer({ scopes: ['admin'] })) },
    NO_ROLE_403,
  ],
  [
    'two matching rules: the token must satisfy both',
    {
      token: protectedBy([rule(), rule({ pattern: '/api/admin/**', roles: ['admin'] })], bearer({ roles: ['reader'] })),
    },
    NO_ROLE_403,
  ],
  // Caller allow-list (AZURE_APP_PRE_AUTHORIZED_APPS): azp in the list or this app itself.
  [
    'allow-list set, pre-authorized caller → forwarded',
    { token: protectedBy([rule()], bearer({ azp: CALLER }), PRE_AUTHORIZED) },
    forward(undefined),
  ],
  [
    "allow-list set, this app's own token (a session) → forwarded",
    { session: ACTIVE, token: protectedBy([rule()], session({ azp: SELF }), PRE_AUTHORIZED) },
    forward('at'),
  ],
  [
    'allow-list set, any other caller → 403, never reaches the app',
    { token: protectedBy([rule()], bearer({ azp: STRANGER }), PRE_AUTHORIZED) },
    NOT_PRE_AUTHORIZED,
  ],
  [
    'allow-list set, token without azp → 403',
    { token: protectedBy([rule()], bearer({ azp: undefined }), PRE_AUTHORIZED) },
    NOT_PRE_AUTHORIZED,
  ],
  [
    "allow-list set to [] → only this app's tokens",
    { token: protectedBy([rule()], bearer({ azp: CALLER }), new Set([SELF])) },
    NOT_PRE_AUTHORIZED,
  ],
  [
    'allow-list unset → any caller of the tenant',
    { token: protectedBy([rule()], bearer({ azp: STRANGER })) },
    forward(undefined),
  ],
  [
    'allow-list set, stranger with the right role → still 403 (the list comes first)',
    { token: protectedBy([rule({ roles: ['admin'] })], bearer({ azp: STRANGER, roles: ['admin'] }), PRE_AUTHORIZED) },
    NOT_PRE_AUTHORIZED,
  ],
  // callers= narrows the list per rule.
  [
    'rule callers=, listed caller → forwarded',
    { token: protectedBy([rule({ callers: [CALLER] })], bearer({ azp: CALLER }), PRE_AUTHORIZED) },
    forward(undefined),
  ],
  [
    'rule callers=, another pre-authorized caller → 403',
    { token: protectedBy([rule({ callers: [CALLER] })], bearer({ azp: SELF }), PRE_AUTHORIZED) },
    deny(403, 'caller', `requires one of the callers ${CALLER}`),
  ],
  [
    'rule callers= also binds sessions (their azp is this app, not listed) → 403',
    { session: ACTIVE, token: protectedBy([rule({ callers: [CALLER] })], session({ azp: SELF })) },
    deny(403, 'caller', `requires one of the callers ${CALLER}`),
  ],
  // Groups: any one suffices; alike for sessions and bearer callers; overage resolved or unavailable.
  [
    'session in one of the groups → forwarded',
    {
      session: ACTIVE,
      token: protectedBy(
        [rule({ groups: [G1, G2] })],
        session({ groups: { kind: 'known', ids: [G2], from: 'token' } }),
      ),
    },
    forward('at'),
  ],
  [
    'session in none of the groups → 403',
    {
      session: ACTIVE,
      token: protectedBy([rule({ groups: [G1] })], session({ groups: { kind: 'known', ids: [G2], from: 'token' } })),
    },
    groupDenied(G1),
  ],
  [
    'token without a groups claim (no overage) → 403',
    { token: protectedBy([rule({ groups: [G1] })], bearer()) },
    groupDenied(G1),
  ],
  [
    'bearer caller in the group → forwarded',
    { token: protectedBy([rule({ groups: [G1] })], bearer({ groups: { kind: 'known', ids: [G1], from: 'token' } })) },
    forward(undefined),
  ],
  [
    'overage, Graph says member → forwarded',
    {
      session: ACTIVE,
      token: protectedBy([rule({ groups: [G1] })], session({ groups: { kind: 'known', ids: [G1], from: 'graph' } })),
    },
    forward('at'),
  ],
  [
    'overage, Graph says not a member → 403',
    {
      session: ACTIVE,
      token: protectedBy([rule({ groups: [G1] })], session({ groups: { kind: 'known', ids: [], from: 'graph' } })),
    },
    groupDenied(G1),
  ],
  [
    'overage, Graph down → 503 (fail closed)',
    { session: ACTIVE, token: protectedBy([rule({ groups: [G1] })], session({ groups: GROUPS_DOWN })) },
    { kind: 'groups_unavailable', reason: GROUPS_DOWN.reason },
  ],
  [
    'overage, Graph down, but no rule names groups → forwarded',
    { session: ACTIVE, token: protectedBy([rule()], session({ groups: GROUPS_DOWN })) },
    forward('at'),
  ],
  [
    'overage, Graph down, but the role is missing → 403 first',
    { token: protectedBy([rule({ roles: ['admin'], groups: [G1] })], bearer({ groups: GROUPS_DOWN })) },
    NO_ROLE_403,
  ],
  // Authentication contexts (acrs=): a session steps up, a bearer caller gets insufficient_claims.
  [
    'session with the context → forwarded',
    { session: ACTIVE, token: protectedBy([rule({ acrs: ['c1'] })], session({ acrs: ['c1'] })) },
    forward('at'),
  ],
  [
    'session without it, navigation → step up by redirect',
    { session: ACTIVE, token: protectedBy([rule({ acrs: ['c1'] })], session({ acrs: ['c2'] })) },
    { kind: 'step_up', via: 'redirect', claims: C1 },
  ],
  [
    'session without it, fetch/XHR → step up by 401 challenge',
    { session: ACTIVE, navigation: false, token: protectedBy([rule({ acrs: ['c1'] })], session()) },
    { kind: 'step_up', via: 'challenge', claims: C1 },
  ],
  [
    'session without either of two contexts → claims ask for both values',
    { session: ACTIVE, token: protectedBy([rule({ acrs: ['c1', 'c2'] })], session()) },
    {
      kind: 'step_up',
      via: 'redirect',
      claims: JSON.stringify({ access_token: { acrs: { essential: true, values: ['c1', 'c2'] } } }),
    },
  ],
  [
    'session with one of two contexts → forwarded',
    { session: ACTIVE, token: protectedBy([rule({ acrs: ['c1', 'c2'] })], session({ acrs: ['c2'] })) },
    forward('at'),
  ],
  [
    'bearer without the context → 401 insufficient_claims with the claims (base64)',
    { token: protectedBy([rule({ acrs: ['c1'] })], bearer()) },
    deny(
      401,
      'claims',
      'requires the authentication context c1',
      `Bearer error="insufficient_claims", error_description="requires the authentication context c1", claims="${Buffer.from(C1).toString('base64')}"`,
    ),
  ],
  [
    'session without the context and outside the group → 403, no step-up',
    { session: ACTIVE, token: protectedBy([rule({ acrs: ['c1'], groups: [G1] })], session()) },
    groupDenied(G1),
  ],
  [
    'step-up needs a valid token first: no token → 401',
    { token: protectedBy([rule({ acrs: ['c1'] })], { kind: 'missing' }) },
    NO_TOKEN_401,
  ],
  // CORS preflight (VESTIBULE_SKIP_AUTH_PREFLIGHT): forwarded without authentication, and never with a token.
  [
    'preflight on a protected path → forwarded without a token',
    { preflight: true, token: NO_TOKEN },
    forward(undefined),
  ],
  [
    'preflight with auto-login → forwarded, not sent to login',
    { preflight: true, autoLogin: true },
    forward(undefined),
  ],
  ['preflight with a session → forwarded without its token', { preflight: true, session: ACTIVE }, forward(undefined)],
  [
    'preflight with a malformed target → 400 still',
    { preflight: true, targetProblem: 'dot segments' },
    { kind: 'bad_request', reason: 'dot segments' },
  ],
];

describe('decideAccess: the one access decision', () => {
  for (const [name, facts, want] of table) {
    it(name, () => {
      assert.deepEqual(decideAccess({ ...base, ...facts }), want);
    });
  }

  it('every deny carries a reason for the log and, for 401, a Bearer challenge', () => {
    for (const [name, facts] of table) {
      const v = decideAccess({ ...base, ...facts });
      if (v.kind !== 'deny') continue;
      assert.ok(v.reason.length > 0, name);
      if (v.status === 401) assert.match(v.wwwAuthenticate ?? '', /^Bearer/, name);
    }
  });
});
