// Start-up parsing of the authorization settings: every rule kind, the errors a bad rule gets (naming the
// variable, with a valid example), callers resolved from AZURE_APP_PRE_AUTHORIZED_APPS, multi-tenant tenants.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { settings, tokenRules } from '../../src/config/settings.js';

const SELF = 'e89006c5-7193-4ca3-8e26-d0990d9d981f';
const CALLER = '0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e';
const G1 = '2d7f1c9e-4b3a-4f0e-9c1d-6a5b4e3f2a10';
const G2 = '8c4e2a6f-1d3b-4e7a-b5c9-0f1e2d3c4b5a';
const base = {
  AZURE_APP_CLIENT_ID: SELF,
  AZURE_APP_WELL_KNOWN_URL:
    'https://login.microsoftonline.com/77678b69-1daf-47b6-9072-771d270ac800/v2.0/.well-known/openid-configuration',
  AZURE_APP_JWK: JSON.stringify({ kty: 'RSA', kid: 'k1', n: 'x', e: 'AQAB', d: 'secret-d-value' }),
  VESTIBULE_INGRESS: 'https://app.example.com',
  VESTIBULE_DEVELOPMENT_MODE: 'true',
};
const PRE_AUTHORIZED = JSON.stringify([{ name: 'dev-gcp:team:caller', clientId: CALLER }]);

function problemsOf(env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('VESTIBULE_REQUIRE_TOKEN_PATHS rule options', () => {
  it('parses groups=, callers= and acrs= beside roles= and scopes=', () => {
    const c = loadConfig({
      ...base,
      AZURE_APP_PRE_AUTHORIZED_APPS: PRE_AUTHORIZED,
      VESTIBULE_REQUIRE_TOKEN_PATHS: `/cases/** groups=${G1}|${G2} acrs=c1,/batch/** callers=dev-gcp:team:caller roles=batch`,
    });
    assert.deepEqual(c.requireTokenPaths, [
      { pattern: '/cases/**', roles: [], scopes: [], groups: [G1, G2], callers: [], acrs: ['c1'] },
      // The name is resolved to the client id at start-up.
      { pattern: '/batch/**', roles: ['batch'], scopes: [], groups: [], callers: [CALLER], acrs: [] },
    ]);
    assert.deepEqual(c.callerAllowList, [{ name: 'dev-gcp:team:caller', clientId: CALLER }]);
  });

  // Entra writes object and client ids in lower case (groups, azp); a GUID copied from a portal or a script in
  // upper case is the same id and must not silently refuse everyone.
  it('group and caller ids match in any case: they are kept in lower case', () => {
    const c = loadConfig({
      ...base,
      AZURE_APP_PRE_AUTHORIZED_APPS: JSON.stringify([{ name: 'dev-gcp:team:caller', clientId: CALLER.toUpperCase() }]),
      VESTIBULE_REQUIRE_TOKEN_PATHS: `/cases/** groups=${G1.toUpperCase()},/batch/** callers=${CALLER.toUpperCase()}`,
    });
    assert.deepEqual(c.requireTokenPaths[0]?.groups, [G1]);
    assert.deepEqual(c.requireTokenPaths[1]?.callers, [CALLER]);
    assert.deepEqual(c.callerAllowList, [{ name: 'dev-gcp:team:caller', clientId: CALLER }]);
  });

  // `roles=a roles=b` read as "a and b" or "a or b" by whoever wrote it; the parser kept only b.
  it('refuses an option given twice in one rule', () => {
    const [p] = problemsOf({ ...base, VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/** roles=admin roles=ops' });
    assert.ok(p);
    assert.equal(p.variable, 'VESTIBULE_REQUIRE_TOKEN_PATHS');
    assert.match(p.problem, /roles= is given twice in "\/api\/\*\*"/);
  });

  it('the documented example is valid', () => {
    assert.equal(tokenRules(settings.requireTokenPaths.example).ok, true);
  });

  for (const [raw, wanted] of [
    ['/api/** groups=admins', /groups= takes group object ids \(GUIDs\); "admins" is not one/],
    ['/api/** acrs=strong', /acrs= takes authentication context ids c1 to c99; "strong" is not one/],
    ['/api/** acrs=c100', /"c100" is not one/],
    ['/api/** teams=a', /invalid option "teams=a" in "\/api\/\*\*" \(expected roles=a\|b, scopes=c\|d, groups=/],
    ['/api/** groups=', /invalid option "groups="/],
    ['/api/** callers=a||b', /invalid option "callers=a\|\|b"/],
  ] as const) {
    it(`refuses ${JSON.stringify(raw)} at start-up, naming the variable with a valid example`, () => {
      const [p] = problemsOf({ ...base, VESTIBULE_REQUIRE_TOKEN_PATHS: raw });
      assert.equal(p?.variable, 'VESTIBULE_REQUIRE_TOKEN_PATHS');
      assert.match(p.problem, wanted);
      assert.equal(tokenRules(p.example).ok, true);
    });
  }

  it('refuses a callers= name that AZURE_APP_PRE_AUTHORIZED_APPS does not list', () => {
    const [p] = problemsOf({
      ...base,
      AZURE_APP_PRE_AUTHORIZED_APPS: PRE_AUTHORIZED,
      VESTIBULE_REQUIRE_TOKEN_PATHS: '/batch/** callers=dev-gcp:team:other',
    });
    assert.equal(p?.variable, 'VESTIBULE_REQUIRE_TOKEN_PATHS');
    assert.match(p.problem, /names the caller "dev-gcp:team:other", which is neither a client id nor a name/);
  });

  it('refuses a callers= client id outside a set allow-list, accepts this app and listed ones', () => {
    const stranger = '9c8d7e6f-3333-4333-8333-000000000003';
    const [p] = problemsOf({
      ...base,
      AZURE_APP_PRE_AUTHORIZED_APPS: PRE_AUTHORIZED,
      VESTIBULE_REQUIRE_TOKEN_PATHS: `/batch/** callers=${stranger}`,
    });
    assert.match(p?.problem ?? '', /AZURE_APP_PRE_AUTHORIZED_APPS does not list/);
    const c = loadConfig({
      ...base,
      AZURE_APP_PRE_AUTHORIZED_APPS: PRE_AUTHORIZED,
      VESTIBULE_REQUIRE_TOKEN_PATHS: `/batch/** callers=${CALLER}|${SELF}`,
    });
    assert.deepEqual(c.requireTokenPaths[0]?.callers, [CALLER, SELF]);
    // Without the list, any client id may be named (there is nothing to check it against).
    const open = loadConfig({ ...base, VESTIBULE_REQUIRE_TOKEN_PATHS: `/batch/** callers=${stranger}` });
    assert.deepEqual(open.requireTokenPaths[0]?.callers, [stranger]);
    assert.equal(open.callerAllowList, null);
  });

  it('an empty AZURE_APP_PRE_AUTHORIZED_APPS is a set (empty) allow-list, unset is none', () => {
    assert.deepEqual(loadConfig({ ...base, AZURE_APP_PRE_AUTHORIZED_APPS: '[]' }).callerAllowList, []);
    assert.equal(loadConfig(base).callerAllowList, null);
  });
});

describe('the other authorization settings', () => {
  it('defaults: Graph at graph.microsoft.com, 5 min bearer cache, preflights authenticated', () => {
    const c = loadConfig(base);
    assert.equal(c.graphUrl, 'https://graph.microsoft.com');
    assert.equal(c.groupsCacheTtlMs, 300_000);
    assert.equal(c.skipAuthPreflight, false);
    assert.deepEqual(c.allowedTenants, []);
  });

  it('VESTIBULE_GRAPH_URL: https, or http on loopback only; a trailing slash is dropped', () => {
    assert.equal(
      loadConfig({ ...base, VESTIBULE_GRAPH_URL: 'http://127.0.0.1:9/graph/' }).graphUrl,
      'http://127.0.0.1:9/graph',
    );
    const [p] = problemsOf({ ...base, VESTIBULE_GRAPH_URL: 'http://graph.example.com' });
    assert.equal(p?.variable, 'VESTIBULE_GRAPH_URL');
  });

  it('multi-tenant discovery needs VESTIBULE_ALLOWED_TENANTS, and an empty list is refused', () => {
    const multi = {
      ...base,
      AZURE_APP_WELL_KNOWN_URL: 'https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration',
    };
    assert.equal(problemsOf(multi)[0]?.variable, 'VESTIBULE_ALLOWED_TENANTS');
    assert.equal(problemsOf({ ...multi, VESTIBULE_ALLOWED_TENANTS: ' , ' })[0]?.variable, 'VESTIBULE_ALLOWED_TENANTS');
    assert.match(problemsOf({ ...multi, VESTIBULE_ALLOWED_TENANTS: 'contoso' })[0]?.problem ?? '', /not a tenant id/);
    // A value that did not parse is one problem, not also "must list the tenants".
    assert.equal(problemsOf({ ...multi, VESTIBULE_ALLOWED_TENANTS: 'contoso' }).length, 1);
    assert.equal(problemsOf({ ...multi, VESTIBULE_ALLOWED_TENANTS: ' , ' }).length, 1);
    const tid = '77678B69-1DAF-47B6-9072-771D270AC800';
    assert.deepEqual(loadConfig({ ...multi, VESTIBULE_ALLOWED_TENANTS: tid }).allowedTenants, [tid.toLowerCase()]);
  });

  it('VESTIBULE_ALLOWED_TENANTS beside a single-tenant discovery URL is named as ignored, not silently dropped', () => {
    const c = loadConfig({ ...base, VESTIBULE_ALLOWED_TENANTS: '0b3b5d2e-8a57-4a43-9a8d-6c1b0b5b0f1e' });
    assert.deepEqual(c.allowedTenants, []);
    assert.ok(
      c.warnings.some((w) => w.startsWith('VESTIBULE_ALLOWED_TENANTS is ignored')),
      `warnings: ${JSON.stringify(c.warnings)}`,
    );
  });

  it('multi-tenant mode refuses groups= rules, whose ids and overage lookups belong to one tenant', () => {
    const multi = {
      ...base,
      AZURE_APP_WELL_KNOWN_URL: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
      VESTIBULE_ALLOWED_TENANTS: '77678b69-1daf-47b6-9072-771d270ac800',
    };
    const group = '2d7f1c9e-4b3a-4f0e-9c1d-6a5b4e3f2a10';
    const [p] = problemsOf({ ...multi, VESTIBULE_REQUIRE_TOKEN_PATHS: `/api/** groups=${group}` });
    assert.ok(p);
    assert.equal(p.variable, 'VESTIBULE_REQUIRE_TOKEN_PATHS');
    assert.match(p.problem, /groups= rules are not supported with the multi-tenant endpoint/);
    assert.equal(
      loadConfig({ ...multi, VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/** roles=reader' }).allowedTenants.length,
      1,
    );
  });
});
