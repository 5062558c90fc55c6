/**
 * The claims request vestibule passes to Entra (login/claims-request.ts) and the app's claims challenge it reads
 * (proxy/claims-challenge.ts): only a request for stronger or fresher sign-in passes, re-serialised; a challenge
 * counts only as `Bearer error="insufficient_claims"` with base64 claims.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimsForLogin,
  MAX_CLAIMS_REQUEST_LENGTH,
  parseClaimsRequest,
  requestedAcrs,
} from '../../src/login/claims-request.js';
import { readClaimsChallenge } from '../../src/proxy/claims-challenge.js';

const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const header = (value: string): Buffer[] => [
  Buffer.from('Content-Type'),
  Buffer.from('x'),
  Buffer.from('WWW-Authenticate'),
  Buffer.from(value),
];

describe('parseClaimsRequest', () => {
  it('accepts step-up and CAE requests, re-serialised', () => {
    const spaced = '{ "access_token" : { "acrs" : { "essential" : true, "value" : "c1" } } }';
    const r = parseClaimsRequest(spaced);
    assert.ok(r.ok);
    assert.equal(r.json, C1);
    assert.deepEqual(requestedAcrs(r.claims), ['c1']);
    for (const ok of [
      '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}',
      '{"id_token":{"acrs":{"essential":true,"values":["c1","c25"]}}}',
      '{"access_token":{"nbf":null,"acrs":null}}',
      '{"access_token":{"polids":{"essential":true,"values":["5ce1fe3b-4c4e-4fae-b4e6-0c8c4d0c5e52"]}}}',
    ]) {
      assert.ok(parseClaimsRequest(ok).ok, ok);
    }
  });

  it('refuses anything that could ask for more than a stronger sign-in, naming the problem without the input', () => {
    const cases: [string, RegExp][] = [
      ['not json', /is not JSON/],
      ['[]', /not a JSON object/],
      ['"c1"', /not a JSON object/],
      ['{}', /asks for nothing/],
      ['{"userinfo":{"acrs":null}}', /access_token and id_token/],
      ['{"access_token":{"groups":{"essential":true}}}', /other than acrs/],
      ['{"id_token":{"email":null}}', /other than acrs/],
      // Client capabilities are the operator's to declare (VESTIBULE_CLIENT_CAPABILITIES), not a login link's.
      ['{"access_token":{"xms_cc":{"values":["cp1"]},"acrs":null}}', /other than acrs/],
      ['{"id_token":{"acrs":null},"access_token":{"xms_cc":{"value":"cp2"}}}', /other than acrs/],
      ['{"access_token":[]}', /not an object/],
      ['{"access_token":{"acrs":{"essential":"yes"}}}', /not null or/],
      ['{"access_token":{"acrs":{"value":"c1\\"><script>"}}}', /not null or/],
      ['{"access_token":{"acrs":{"values":[]}}}', /not null or/],
      ['{"access_token":{"acrs":{"value":"c1","extra":1}}}', /not null or/],
      [`{"access_token":{"acrs":{"value":"${'c'.repeat(MAX_CLAIMS_REQUEST_LENGTH)}"}}}`, /longer than 2048/],
    ];
    for (const [text, problem] of cases) {
      const r = parseClaimsRequest(text);
      assert.equal(r.ok, false, text);
      assert.match(r.problem, problem, text);
      assert.ok(!r.problem.includes('script'), 'the input is never echoed');
    }
  });
});

describe('claimsForLogin', () => {
  it('declares the configured cp1 in access_token.xms_cc beside what the request asks', () => {
    assert.equal(claimsForLogin(undefined, []), undefined);
    assert.equal(claimsForLogin(undefined, ['cp1']), '{"access_token":{"xms_cc":{"values":["cp1"]}}}');
    const c1 = parseClaimsRequest(C1);
    assert.ok(c1.ok);
    assert.equal(claimsForLogin(c1.claims, []), C1);
    assert.deepEqual(JSON.parse(claimsForLogin(c1.claims, ['cp1']) ?? ''), {
      access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    const step = parseClaimsRequest('{"id_token":{"acrs":null},"access_token":{"nbf":{"value":"1604106651"}}}');
    assert.ok(step.ok);
    assert.deepEqual(JSON.parse(claimsForLogin(step.claims, ['cp1']) ?? ''), {
      id_token: { acrs: null },
      access_token: { nbf: { value: '1604106651' }, xms_cc: { values: ['cp1'] } },
    });
  });
});

describe('readClaimsChallenge', () => {
  it("reads Microsoft's insufficient_claims challenge (base64 claims, other parameters around it)", () => {
    const value = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${b64(C1)}"`;
    assert.deepEqual(readClaimsChallenge(header(value)), { claims: C1 });
    // base64url without padding, lower-case scheme, a Basic challenge first in the same header
    const url = Buffer.from(C1).toString('base64url');
    assert.deepEqual(
      readClaimsChallenge(header(`Basic realm="x", bearer error=insufficient_claims, claims="${url}"`)),
      {
        claims: C1,
      },
    );
  });

  it('ignores every other 401: no header, another error, another scheme', () => {
    assert.equal(readClaimsChallenge([Buffer.from('content-type'), Buffer.from('text/plain')]), undefined);
    assert.equal(readClaimsChallenge(header('Bearer error="invalid_token"')), undefined);
    assert.equal(readClaimsChallenge(header(`Bearer error="invalid_token", claims="${b64(C1)}"`)), undefined);
    assert.equal(readClaimsChallenge(header(`Basic error="insufficient_claims", claims="${b64(C1)}"`)), undefined);
    assert.equal(readClaimsChallenge(header(`Bearer realm="error=\\"insufficient_claims\\""`)), undefined);
  });

  it('reports a challenge whose claims vestibule would not send (the answer then passes on)', () => {
    const r = (v: string): string | undefined => {
      const x = readClaimsChallenge(header(v));
      return x && 'problem' in x ? x.problem : undefined;
    };
    assert.match(r('Bearer error="insufficient_claims"') ?? '', /without claims/);
    assert.match(r('Bearer error="insufficient_claims", claims="{not-base64}"') ?? '', /not base64/);
    assert.match(
      r(`Bearer error="insufficient_claims", claims="${b64('{"access_token":{"groups":null}}')}"`) ?? '',
      /other than acrs/,
    );
    assert.match(
      r(`Bearer error="insufficient_claims", claims="${'A'.repeat(4000)}"`) ?? '',
      /not base64 of at most 2 KB/,
    );
    assert.match(r(`Bearer error="insufficient_claims", claims="${'A'.repeat(9000)}"`) ?? '', /too long/);
  });
});
