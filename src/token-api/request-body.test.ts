import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenApiError } from './api-error.js';
import { parseFormBody, parseJsonBody, requestBody, unsupportedMediaType } from './request-body.js';

function description(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof TokenApiError);
    assert.equal(err.status, 400);
    assert.equal(err.body.error, 'invalid_request');
    return err.body.error_description;
  }
  assert.fail('no error');
}

describe('JSON bodies', () => {
  it('reads strings and booleans', () => {
    const body = parseJsonBody('{"identity_provider":"entra_id","target":"a:b:c","skip_cache":true}');
    assert.equal(body.requiredString('target'), 'a:b:c');
    assert.equal(body.optionalBoolean('skip_cache'), true);
    assert.equal(parseJsonBody('{"skip_cache":null}').optionalBoolean('skip_cache'), false);
    assert.equal(parseJsonBody('{}').optionalBoolean('skip_cache'), false);
  });

  it('names the missing or mistyped field', () => {
    assert.equal(
      description(() => parseJsonBody('{}').requiredString('target')),
      "missing required field 'target'",
    );
    assert.equal(
      description(() => parseJsonBody('{"target":""}').requiredString('target')),
      "missing required field 'target'",
    );
    assert.equal(
      description(() => parseJsonBody('{"target":1}').requiredString('target')),
      "field 'target' must be a string",
    );
    assert.equal(
      description(() => parseJsonBody('{"skip_cache":"true"}').optionalBoolean('skip_cache')),
      "field 'skip_cache' must be true or false",
    );
  });

  it('refuses malformed JSON and non-objects', () => {
    assert.equal(
      description(() => parseJsonBody('{')),
      'the body is not valid JSON',
    );
    assert.equal(
      description(() => parseJsonBody('[]')),
      'the JSON body must be an object',
    );
    assert.equal(
      description(() => parseJsonBody('"x"')),
      'the JSON body must be an object',
    );
  });

  it('reads only own members', () => {
    const body = parseJsonBody('{"__proto__":{"target":"x"}}');
    assert.equal(
      description(() => body.requiredString('target')),
      "missing required field 'target'",
    );
    assert.equal(
      description(() => parseJsonBody('{}').requiredString('toString')),
      "missing required field 'toString'",
    );
  });
});

describe('authorization_details', () => {
  it('is canonical JSON whatever the member order or spelling', () => {
    const a = parseJsonBody('{"authorization_details":[{"type":"t","b":{"y":1,"x":[2,{"q":1,"p":0}]},"a":"s"}]}');
    const b = parseFormBody(
      `authorization_details=${encodeURIComponent('[ {"a":"s","b":{"x":[2,{"p":0,"q":1}],"y":1},"type":"t"} ]')}`,
    );
    const expected = '[{"a":"s","b":{"x":[2,{"p":0,"q":1}],"y":1},"type":"t"}]';
    assert.equal(a.optionalAuthorizationDetails('authorization_details'), expected);
    assert.equal(b.optionalAuthorizationDetails('authorization_details'), expected);
  });

  it('refuses a hostile nesting depth with 400, not a stack overflow', () => {
    const deep = `[{"x":${'['.repeat(5000)}${']'.repeat(5000)}}]`;
    const body = parseFormBody(`authorization_details=${encodeURIComponent(deep)}`);
    assert.match(
      description(() => body.optionalAuthorizationDetails('authorization_details')),
      /nested deeper than 32 levels/,
    );
  });
});

describe('form bodies', () => {
  it('reads fields, with "true"/"false" booleans', () => {
    const body = parseFormBody('identity_provider=entra_id&target=api%3A%2F%2Fx%2F.default&skip_cache=true');
    assert.equal(body.requiredString('target'), 'api://x/.default');
    assert.equal(body.optionalBoolean('skip_cache'), true);
    assert.equal(parseFormBody('skip_cache=false').optionalBoolean('skip_cache'), false);
    assert.equal(
      description(() => parseFormBody('skip_cache=1').optionalBoolean('skip_cache')),
      "field 'skip_cache' must be true or false",
    );
  });

  it('refuses a repeated field', () => {
    assert.equal(
      description(() => parseFormBody('target=a&target=b')),
      "duplicate field 'target'",
    );
  });
});

describe('media types', () => {
  it('uses Texas wording and needs a parsed body', () => {
    assert.equal(
      unsupportedMediaType('text/plain').body.error_description,
      'unsupported media type: "text/plain": expected one of `application/json`, `application/x-www-form-urlencoded`',
    );
    assert.match(
      description(() => requestBody(undefined)),
      /^unsupported media type: no Content-Type/,
    );
    assert.match(
      description(() => requestBody({ target: 'x' })),
      /^unsupported media type/,
    );
  });
});
