import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GRAPH_APP_ID, isPreAuthorized, resolveResource, resolveScope, scpClaim, targetAudience } from './scopes.js';
import type { MockClient } from './types.js';

const api: MockClient = {
  clientId: '11111111-1111-4111-8111-111111111111',
  name: 'prod-gcp:team:api',
  preAuthorizedClientIds: ['a'],
};
const open: MockClient = { clientId: '22222222-2222-4222-8222-222222222222' };
const clients = new Map([api, open].map((c) => [c.clientId, c]));

describe('resolveResource', () => {
  const cases: [string, string | undefined][] = [
    [`api://${api.clientId}`, api.clientId],
    [api.clientId, api.clientId],
    ['api://prod-gcp.team.api', api.clientId],
    ['api://prod-gcp.team.other', undefined],
    ['api://prod-gcp:team:api', undefined],
    ['https://graph.microsoft.com', GRAPH_APP_ID],
    [GRAPH_APP_ID, GRAPH_APP_ID],
    ['https://example.com', undefined],
  ];
  for (const [resource, audience] of cases) {
    it(`${resource} → ${String(audience)}`, () => {
      const target = resolveResource(resource, clients);
      assert.equal(target === undefined ? undefined : targetAudience(target), audience);
    });
  }
});

describe('resolveScope', () => {
  it('splits OIDC scopes from the single resource', () => {
    const r = resolveScope('openid  offline_access api://prod-gcp.team.api/.default', clients, 28000);
    assert.equal(targetAudience(r.target), api.clientId);
    assert.deepEqual(r.oidc, ['openid', 'offline_access']);
    assert.deepEqual(r.names, ['.default']);
    assert.equal(scpClaim(r), 'defaultaccess');
  });

  it('treats a resource-less scope and bare names as Microsoft Graph', () => {
    assert.equal(targetAudience(resolveScope('openid profile', clients, 28000).target), GRAPH_APP_ID);
    const bare = resolveScope('openid User.Read', clients, 28000);
    assert.equal(scpClaim(bare), 'openid profile email User.Read');
  });

  it('refuses several resources with the given code, and an unknown one with AADSTS500011', () => {
    assert.throws(
      () => resolveScope(`api://${api.clientId}/.default api://${open.clientId}/.default`, clients, 700022),
      {
        error: 'invalid_scope',
        code: 700022,
      },
    );
    assert.throws(() => resolveScope('api://nope/.default', clients, 28000), {
      error: 'invalid_resource',
      code: 500011,
    });
    assert.throws(() => resolveScope(`api://${api.clientId}`, clients, 28000), { error: 'invalid_scope', code: 70011 });
  });
});

describe('isPreAuthorized', () => {
  it('allows self, listed clients, Graph, and anyone when no list is set', () => {
    assert.equal(isPreAuthorized({ kind: 'client', client: api }, api.clientId), true);
    assert.equal(isPreAuthorized({ kind: 'client', client: api }, 'a'), true);
    assert.equal(isPreAuthorized({ kind: 'client', client: api }, 'b'), false);
    assert.equal(isPreAuthorized({ kind: 'client', client: open }, 'b'), true);
    assert.equal(isPreAuthorized({ kind: 'graph' }, 'b'), true);
  });
});
