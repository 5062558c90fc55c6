import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAccess, NOT_PROTECTED, type AccessFacts, type AccessVerdict } from './decision.js';

const ACTIVE = { kind: 'active', accessToken: 'at' } as const;
const NONE = { kind: 'none' } as const;
const DOWN = { kind: 'unavailable' } as const;
const TOKEN_OK = { protected: true, ok: true } as const;
const NO_TOKEN = { protected: true, status: 401, wwwAuthenticate: 'Bearer', reason: 'no token' } as const;
const NO_ROLE = {
  protected: true,
  status: 403,
  wwwAuthenticate: 'Bearer error="insufficient_scope"',
  reason: 'requires one of the roles admin',
} as const;

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
};

const H2C = { kind: 'bad_request', reason: 'only websocket upgrades (GET) are proxied' } as const;
const CSWSH = { kind: 'forbidden', reason: 'websocket opened from another site' } as const;
const CSRF = { kind: 'forbidden', reason: 'cross-site request with a session' } as const;
const CROSS_POST = { unsafeMethod: true, crossSite: true, navigation: false } as const;

const forward = (accessToken: string | undefined): AccessVerdict => ({ kind: 'forward', accessToken });
const deny = (t: typeof NO_TOKEN | typeof NO_ROLE): AccessVerdict => ({
  kind: 'deny',
  status: t.status,
  wwwAuthenticate: t.wwwAuthenticate,
  reason: t.reason,
});

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
  ['protected path, no token → 401 Bearer challenge', { token: NO_TOKEN }, deny(NO_TOKEN)],
  [
    'protected path, no token, auto-login → 401, never a login redirect',
    { token: NO_TOKEN, autoLogin: true },
    deny(NO_TOKEN),
  ],
  ['protected path, session lacking the role → 403', { session: ACTIVE, token: NO_ROLE }, deny(NO_ROLE)],
  [
    'protected path, valid token → forwarded with the session token',
    { session: ACTIVE, token: TOKEN_OK },
    forward('at'),
  ],
  ['protected path, bearer caller without session → forwarded', { token: TOKEN_OK }, forward(undefined)],
  [
    'protected path on an auto-login-exempt glob is still protected',
    { token: NO_TOKEN, autoLogin: true, loginExempt: true },
    deny(NO_TOKEN),
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
];

describe('decideAccess: the one access decision', () => {
  for (const [name, facts, want] of table) {
    it(name, () => {
      assert.deepEqual(decideAccess({ ...base, ...facts }), want);
    });
  }

  it('a deny without a status is a 401', () => {
    const v = decideAccess({ ...base, token: { protected: true, reason: 'x' } });
    assert.equal(v.kind === 'deny' && v.status, 401);
  });
});
