// Issue 17: each rule kind end to end, through a real login at the mock Entra ID (users with and without
// groups, one with the overage marker), the mock's Graph stand-in, a real Redis and a real upstream.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MOCK_GROUPS } from '../../mock-entra/users.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { loggedIn } from '../support/mock-login.js';
import { taggedGet } from '../support/tagged-get.js';

const CALLER = '0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e';
const STRANGER = '9c8d7e6f-3333-4333-8333-000000000003';
const KARI = 'kari.nordmann@nav.example'; // saksbehandler + veileder
const OLA = 'ola.hansen@nav.example'; // veileder only
const MANGE = 'mange.grupper@nav.example'; // overage: saksbehandler + utvikler, only in Graph
const FETCH = { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: 'application/json' };
const C1 = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });

const RULES = [
  '/api/**',
  `/cases/** groups=${MOCK_GROUPS.saksbehandler}|${MOCK_GROUPS.utvikler}`,
  '/batch/** callers=dev-gcp:team:caller',
  '/secure/** acrs=c1',
].join(',');

describe('authorization rules end to end', () => {
  let h: Harness;
  const bearer = (token: string): [string, string][] => [['Authorization', `Bearer ${token}`]];
  const graphCalls = (): number => h.mock.requests().filter((r) => r.path.startsWith('/graph/')).length;
  const graphMetric = async (outcome: string): Promise<number> => {
    const text = await h.metrics.registry.metrics();
    const m = new RegExp(`^vestibule_graph_lookups_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
    return Number(m?.[1] ?? 0);
  };
  const userToken = (username: string, extraClaims: Record<string, unknown> = {}): Promise<string> => {
    const user = h.mock.users.find((u) => u.username === username);
    assert.ok(user, username);
    return h.mock.mintAccessToken({ audience: h.clientId, user, extraClaims });
  };

  before(async () => {
    h = await startHarness({
      logLevel: 'info',
      env: (mock) => ({
        VESTIBULE_REQUIRE_TOKEN_PATHS: RULES,
        AZURE_APP_PRE_AUTHORIZED_APPS: JSON.stringify([{ name: 'dev-gcp:team:caller', clientId: CALLER }]),
        VESTIBULE_GRAPH_URL: mock.graphUrl,
        VESTIBULE_SKIP_AUTH_PREFLIGHT: 'true',
      }),
    });
  });
  after(() => h.close());

  describe('caller allow-list (AZURE_APP_PRE_AUTHORIZED_APPS)', () => {
    it('a pre-authorized caller and this app itself pass; any other caller gets 403 before the app', async () => {
      const caller = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: CALLER });
      assert.equal((await taggedGet(h, '/api/x', bearer(caller))).status, 200);
      const own = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: h.clientId });
      assert.equal((await taggedGet(h, '/api/x', bearer(own))).status, 200);
      const stranger = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: STRANGER });
      const { status, seen } = await taggedGet(h, '/api/x', bearer(stranger));
      assert.equal(status, 403);
      assert.equal(seen, undefined, 'the request reached the app');
      const res = await new TestClient().get(`${h.ingress}/api/x`, { authorization: `Bearer ${stranger}` });
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'access_denied');
    });

    it("callers= narrows a rule to the named app: this app's own browser session is refused there", async () => {
      const caller = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: CALLER });
      assert.equal((await taggedGet(h, '/batch/run', bearer(caller))).status, 200);
      const own = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: h.clientId });
      assert.equal((await taggedGet(h, '/batch/run', bearer(own))).status, 403);
      const { browser } = await loggedIn(h, { username: KARI });
      assert.equal((await browser.get(`${h.ingress}/batch/run`, FETCH)).status, 403);
    });
  });

  describe('groups=, for browser sessions and bearer callers', () => {
    it('a signed-in member of one of the groups passes; a non-member gets the page or JSON 403', async () => {
      const kari = await loggedIn(h, { username: KARI });
      assert.equal((await kari.browser.get(`${h.ingress}/cases/1`, NAVIGATION)).status, 200);
      const ola = await loggedIn(h, { username: OLA });
      const page = await ola.browser.get(`${h.ingress}/cases/1`, NAVIGATION);
      assert.equal(page.status, 403);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.body, /not a member of a group that has access/);
      const json = await ola.browser.get(`${h.ingress}/cases/1`, FETCH);
      assert.equal(json.status, 403);
      assert.equal((JSON.parse(json.body) as { error: string }).error, 'insufficient_scope');
      assert.match(json.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope"/);
      // Not a protected-by-groups path: the non-member's session goes on.
      assert.equal((await ola.browser.get(`${h.ingress}/api/x`, FETCH)).status, 200);
    });

    it('bearer tokens: the groups claim decides alike', async () => {
      assert.equal((await taggedGet(h, '/cases/1', bearer(await userToken(KARI)))).status, 200);
      const { status, seen } = await taggedGet(h, '/cases/1', bearer(await userToken(OLA)));
      assert.equal(status, 403);
      assert.equal(seen, undefined);
    });
  });

  describe("groups overage: Microsoft Graph (the mock's stand-in) is asked, once", () => {
    it('a session whose token has the overage marker is resolved through Graph and cached for the session', async () => {
      const before = graphCalls();
      const okBefore = await graphMetric('ok');
      const { browser } = await loggedIn(h, { username: MANGE });
      assert.equal((await browser.get(`${h.ingress}/cases/1`, NAVIGATION)).status, 200);
      assert.equal((await browser.get(`${h.ingress}/cases/2`, FETCH)).status, 200);
      assert.equal(graphCalls() - before, 1, 'one Graph call for the session');
      assert.equal((await graphMetric('ok')) - okBefore, 1);
    });

    it('a bearer token with the overage marker is resolved and cached too; a non-member is refused', async () => {
      const token = await userToken(MANGE);
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      assert.equal(payload.groups, undefined);
      assert.deepEqual(payload._claim_names, { groups: 'src1' });
      const before = graphCalls();
      assert.equal((await taggedGet(h, '/cases/1', bearer(token))).status, 200);
      assert.equal((await taggedGet(h, '/cases/1', bearer(token))).status, 200);
      assert.equal(graphCalls() - before, 1);
      // Ola's token with the overage marker: Graph knows he is only in veileder.
      const ola = await userToken(OLA, { groups: undefined, _claim_names: { groups: 'src1' } });
      assert.equal((await taggedGet(h, '/cases/1', bearer(ola))).status, 403);
    });

    it('Graph down: fails closed with 503 (page or JSON), counted, logged without any token', async () => {
      const errorsBefore = await graphMetric('error');
      h.mock.fail({ kind: 'graph_down' });
      try {
        const { browser, cookie } = await loggedIn(h, { username: MANGE });
        const json = await browser.get(`${h.ingress}/cases/1`, FETCH);
        assert.equal(json.status, 503);
        assert.equal((JSON.parse(json.body) as { error: string }).error, 'groups_unavailable');
        assert.ok(json.headers.get('retry-after'));
        const page = await browser.get(`${h.ingress}/cases/1`, NAVIGATION);
        assert.equal(page.status, 503);
        assert.match(page.body, /could not be looked up in Microsoft Graph/);
        assert.equal((await graphMetric('error')) - errorsBefore, 2, 'a failure is not cached');
        const line = h.logLines().find((l) => l.msg === 'groups lookup failed');
        assert.ok(line, 'the failure is logged');
        assert.match(JSON.stringify(line), /checkMemberGroups answered 503/);
        assert.ok(!h.rawLogs().includes(cookie.split('=')[1] ?? 'x'), 'a session cookie was logged');
      } finally {
        h.mock.clearFailures();
      }
      // Graph back: the same kind of request passes.
      const { browser } = await loggedIn(h, { username: MANGE });
      assert.equal((await browser.get(`${h.ingress}/cases/1`, FETCH)).status, 200);
    });
  });

  describe('acrs= (Conditional Access authentication context)', () => {
    it('a session without it: navigations go to login with the claims request, fetch gets 401 with login_url', async () => {
      const { browser } = await loggedIn(h, { username: KARI });
      const nav = await browser.get(`${h.ingress}/secure/report?q=1`, NAVIGATION);
      assert.equal(nav.status, 302);
      const to = new URL(nav.location ?? '');
      assert.equal(to.pathname, '/oauth2/login');
      assert.equal(to.searchParams.get('redirect'), '/secure/report?q=1');
      assert.equal(to.searchParams.get('claims'), C1);
      const xhr = await browser.get(`${h.ingress}/secure/report`, { ...FETCH, referer: `${h.ingress}/page` });
      assert.equal(xhr.status, 401);
      const body = JSON.parse(xhr.body) as { error: string; login_url: string };
      assert.equal(body.error, 'insufficient_claims');
      const login = new URL(body.login_url, h.ingress);
      assert.equal(login.searchParams.get('redirect'), '/page');
      assert.equal(login.searchParams.get('claims'), C1);
    });

    it('bearer callers: with acrs c1 the token passes; without, 401 insufficient_claims naming the claims', async () => {
      assert.equal((await taggedGet(h, '/secure/x', bearer(await userToken(KARI, { acrs: ['c1'] })))).status, 200);
      const res = await new TestClient().get(`${h.ingress}/secure/x`, {
        authorization: `Bearer ${await userToken(KARI)}`,
      });
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer error="insufficient_claims"/);
      const claims = /claims="([^"]+)"/.exec(challenge)?.[1] ?? '';
      assert.equal(Buffer.from(claims, 'base64').toString(), C1);
    });
  });

  describe('token introspection', () => {
    it("reports a pre-authorized caller's name from AZURE_APP_PRE_AUTHORIZED_APPS as azp_name", async () => {
      const introspect = async (token: string): Promise<Record<string, unknown>> => {
        const { port } = h.tokenApi.server.address() as AddressInfo;
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ identity_provider: 'entra_id', token }),
        });
        assert.equal(res.status, 200);
        return (await res.json()) as Record<string, unknown>;
      };
      const caller = await introspect(await h.mock.mintAccessToken({ audience: h.clientId, appClientId: CALLER }));
      assert.equal(caller.active, true);
      assert.equal(caller.azp, CALLER);
      assert.equal(caller.azp_name, 'dev-gcp:team:caller');
      // Not in the list: no name is made up.
      const own = await introspect(await h.mock.mintAccessToken({ audience: h.clientId, appClientId: STRANGER }));
      assert.equal(own.active, true);
      assert.equal(own.azp_name, undefined);
    });
  });

  describe('GET /oauth2/userinfo', () => {
    it("answers the signed-in user's non-secret claims, never a token; 401 without a session", async () => {
      const { browser, cookie } = await loggedIn(h, { username: KARI });
      const res = await browser.get(`${h.ingress}/oauth2/userinfo`, FETCH);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
      const kari = h.mock.users.find((u) => u.username === KARI);
      assert.deepEqual(JSON.parse(res.body), {
        oid: kari?.oid,
        name: kari?.name,
        preferred_username: KARI,
        NAVident: kari?.navIdent,
        groups: kari?.groups,
        roles: [],
      });
      assert.doesNotMatch(res.body, /ey[\w-]+\.ey[\w-]+\./, 'a JWT in the answer');
      assert.ok(!res.body.includes(cookie.split('=')[1] ?? 'x'));
      const anonymous = await new TestClient().get(`${h.ingress}/oauth2/userinfo`, FETCH);
      assert.equal(anonymous.status, 401);
      assert.equal((JSON.parse(anonymous.body) as { error: string }).error, 'unauthenticated');
    });

    it('on groups overage, the groups come from Graph (those the rules name)', async () => {
      const { browser } = await loggedIn(h, { username: MANGE });
      const info = JSON.parse((await browser.get(`${h.ingress}/oauth2/userinfo`, FETCH)).body) as {
        groups?: string[];
      };
      assert.deepEqual(info.groups?.toSorted(), [MOCK_GROUPS.saksbehandler, MOCK_GROUPS.utvikler].toSorted());
    });
  });

  describe('CORS preflight (VESTIBULE_SKIP_AUTH_PREFLIGHT)', () => {
    it('OPTIONS with Origin and Access-Control-Request-Method reaches the app without authentication', async () => {
      const preflight: [string, string][] = [
        ['Origin', 'https://other.example'],
        ['Access-Control-Request-Method', 'POST'],
      ];
      const client = new TestClient();
      const ok = await client.request(`${h.ingress}/api/x`, {
        method: 'OPTIONS',
        headers: Object.fromEntries(preflight),
      });
      assert.equal(ok.status, 200);
      // Not a preflight (no Access-Control-Request-Method): a protected path still wants a token.
      const plain = await client.request(`${h.ingress}/api/x`, {
        method: 'OPTIONS',
        headers: { origin: 'https://other.example' },
      });
      assert.equal(plain.status, 401);
    });

    it('a preflight carrying a session cookie still gets no token', async () => {
      const { browser } = await loggedIn(h, { username: KARI });
      const probe = `preflight-${Date.now()}`;
      const res = await browser.request(`${h.ingress}/api/x`, {
        method: 'OPTIONS',
        headers: { origin: 'https://other.example', 'access-control-request-method': 'GET', 'x-probe': probe },
      });
      assert.equal(res.status, 200);
      const seen = h.upstream.seen.find((s) => s.headers['x-probe'] === probe);
      assert.ok(seen);
      assert.equal(seen.headers.authorization, undefined);
    });

    // A browser's preflight carries no credentials and no body, and names its extra headers only in
    // Access-Control-Request-Headers: anything else with OPTIONS + Origin + ACRM is a request dressed up as one,
    // and must be judged like any other rather than reach a protected path unauthenticated.
    it('an OPTIONS that carries a bearer token, a body or a method override is judged, not skipped', async () => {
      const options = async (headers: Record<string, string>, body?: string) => {
        const probe = `not-preflight-${Math.random()}`;
        const res = await new TestClient().request(`${h.ingress}/api/x`, {
          method: 'OPTIONS',
          headers: {
            origin: 'https://other.example',
            'access-control-request-method': 'DELETE',
            'x-probe': probe,
            ...headers,
          },
          body,
        });
        return { status: res.status, seen: h.upstream.seen.find((s) => s.headers['x-probe'] === probe) };
      };
      const withBody = await options({ 'content-type': 'text/plain' }, 'delete everything');
      assert.equal(withBody.seen, undefined, 'an OPTIONS with a body reached the app unauthenticated');
      assert.ok(withBody.status === 401 || withBody.status === 400, String(withBody.status));
      const stranger = await h.mock.mintAccessToken({ audience: h.clientId, appClientId: STRANGER });
      const withToken = await options({ authorization: `Bearer ${stranger}` });
      assert.equal(withToken.seen, undefined, 'a caller outside the allow-list reached the app with its own token');
      assert.equal(withToken.status, 403);
      const overridden = await options({ 'x-http-method-override': 'DELETE' });
      assert.equal(overridden.seen, undefined, 'a method override reached the app unauthenticated');
      assert.equal(overridden.status, 401);
    });
  });
});
