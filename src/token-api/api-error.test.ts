import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdpResponseError, VestibuleError } from '../errors/registry.js';
import { errorResponse, invalidRequest } from './api-error.js';

describe('errorResponse', () => {
  it('keeps our own 400s', () => {
    assert.deepEqual(errorResponse(invalidRequest("missing required field 'target'")), {
      code: 'TOKEN_INVALID_REQUEST',
      status: 400,
      body: { error: 'invalid_request', error_description: "missing required field 'target'" },
      ours: false,
    });
  });

  it("passes Entra's status, error, description and claims through", () => {
    const claims = '{"access_token":{"polids":{"essential":true}}}';
    const err = new IdpResponseError(400, {
      error: 'interaction_required',
      error_description: 'AADSTS50079: MFA',
      claims,
    });
    assert.deepEqual(errorResponse(err), {
      code: 'TOKEN_IDP_ERROR',
      status: 400,
      body: { error: 'interaction_required', error_description: 'AADSTS50079: MFA', claims },
      ours: false,
    });
    assert.deepEqual(errorResponse(new IdpResponseError(401, { error: 'invalid_client' })), {
      code: 'TOKEN_IDP_ERROR',
      status: 401,
      body: { error: 'invalid_client', error_description: 'the identity provider answered "invalid_client"' },
      ours: false,
    });
    assert.deepEqual(errorResponse(new IdpResponseError(503, { error: 'temporarily_unavailable' })).status, 503);
  });

  it('turns everything else into 500 server_error without internals', () => {
    const unreachable = errorResponse(new VestibuleError('IDP_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.1:443'));
    assert.deepEqual(unreachable, {
      code: 'TOKEN_SERVER_ERROR',
      status: 500,
      body: { error: 'server_error', error_description: 'The identity provider could not be reached' },
      ours: true,
    });
    const bug = errorResponse(new TypeError('cannot read properties of undefined (reading "secret")'));
    assert.deepEqual(bug.body, { error: 'server_error', error_description: 'internal error' });
    assert.equal(errorResponse(new IdpResponseError(302, { error: 'x' })).status, 500);
  });
});
