import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestTargetProblem } from './request-target.js';

describe('requestTargetProblem', () => {
  it('passes plain paths and queries untouched, whatever the query holds', () => {
    for (const ok of ['/', '/app/x', '/a.b/c.d', '/x?y=../../z', '/x?//evil', '/%20a', '/file.tar.gz', '/..a/b..']) {
      assert.equal(requestTargetProblem(ok), undefined, ok);
    }
  });
  it('refuses what is not an origin-form path', () => {
    for (const bad of ['*', 'http://evil.example/x', 'evil.example/x', '']) {
      assert.match(requestTargetProblem(bad) ?? '', /must be a path/, bad);
    }
  });
  it('refuses paths another router would read as a host', () => {
    for (const bad of ['//evil.example', '/\\evil.example', '/%2fevil.example', '/%5cevil.example']) {
      assert.match(requestTargetProblem(bad) ?? '', /must not start with/, bad);
    }
  });
  it('refuses dot segments raw, percent-encoded, before an encoded slash and after a semicolon', () => {
    for (const bad of ['/x/../y', '/./y', '/x/..', '/x/%2e%2e/y', '/x/%2E%2e;/y', '/echo/..%2foauth2', '/x\\..\\y']) {
      assert.match(requestTargetProblem(bad) ?? '', /dot segments/, bad);
    }
  });
  it('refuses broken percent-encoding', () => {
    assert.match(requestTargetProblem('/x/%zz') ?? '', /percent-encoding/);
    assert.match(requestTargetProblem('/x/%e2%82') ?? '', /percent-encoding/);
  });
  it('refuses a raw # in the path (routers cut there), not an encoded one nor one in the query', () => {
    for (const bad of ['/api#', '/api/admin#x', '/#']) assert.match(requestTargetProblem(bad) ?? '', /fragment/, bad);
    for (const ok of ['/api%23', '/x?a=#b']) assert.equal(requestTargetProblem(ok), undefined, ok);
  });
});
