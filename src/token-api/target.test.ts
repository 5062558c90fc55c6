import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenApiError } from './api-error.js';
import { targetToScope } from './target.js';

function refused(target: string): TokenApiError {
  try {
    targetToScope(target);
  } catch (err) {
    assert.ok(err instanceof TokenApiError);
    return err;
  }
  assert.fail(`${JSON.stringify(target)} was accepted`);
}

describe('targetToScope', () => {
  it('passes api://…/.default through as is', () => {
    assert.equal(targetToScope('api://dev-gcp.team.app/.default'), 'api://dev-gcp.team.app/.default');
    const guid = 'api://0a1b2c3d-1111-4111-8111-000000000001/.default';
    assert.equal(targetToScope(guid), guid);
  });

  it('maps cluster:namespace:app to the NAIS application id URI', () => {
    assert.equal(targetToScope('dev-gcp:team:app'), 'api://dev-gcp.team.app/.default');
    assert.equal(targetToScope('prod-gcp:a1:b-2'), 'api://prod-gcp.a1.b-2/.default');
  });

  it('passes every other target to Entra unchanged, as Texas does: Entra decides', () => {
    for (const target of [
      'https://graph.microsoft.com/.default',
      '00000003-0000-0000-c000-000000000000/.default',
      '0a1b2c3d-1111-4111-8111-000000000001',
      'api://x/User.Read',
      'api://x',
      'app',
      'team:app',
      'a:b:c:d',
      'a::c',
      '-a:b:c',
    ]) {
      assert.equal(targetToScope(target), target);
    }
  });

  it('refuses whitespace, control characters and over-long targets with 400 invalid_request naming the field', () => {
    for (const bad of [
      '',
      'a:b:c ',
      'api://x/.default extra',
      'api://x/.default api://y/.default',
      'api://x/.default\toffline_access',
      'api://x\n/.default',
      `${'a'.repeat(600)}:b:c`,
    ]) {
      const err = refused(bad);
      assert.equal(err.status, 400);
      assert.equal(err.body.error, 'invalid_request');
      assert.match(err.body.error_description, /^invalid field 'target'/);
    }
  });
});
