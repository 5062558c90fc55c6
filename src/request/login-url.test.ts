import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loginUrl, loginUrlWith, MAX_LOGIN_REDIRECT_LENGTH, MAX_LOGIN_URL, withQueryParam } from './login-url.js';

describe('loginUrl', () => {
  it('carries the way back as one encoded query value, under the route prefix', () => {
    assert.equal(
      loginUrl('/reports?a=1&prompt=login#x'),
      '/oauth2/login?redirect=%2Freports%3Fa%3D1%26prompt%3Dlogin%23x',
    );
    assert.equal(loginUrl('/', '/app'), '/app/oauth2/login?redirect=%2F');
    assert.equal(loginUrl(undefined, '/app'), '/app/oauth2/login');
  });

  it('leaves out a target the login route would not keep, or one too long for an ingress header buffer', () => {
    const longest = `/${'a'.repeat(MAX_LOGIN_REDIRECT_LENGTH - 1)}`;
    assert.equal(loginUrl(longest), `/oauth2/login?redirect=${encodeURIComponent(longest)}`);
    assert.equal(loginUrl(`${longest}b`), '/oauth2/login');
    // Within the length the login route keeps, but 6 characters each once encoded (latin1 bytes above 0x7f).
    assert.equal(loginUrl(`/${'\u00e9'.repeat(500)}`), '/oauth2/login');
    // 3 characters each: 1023 characters encode to 3069, still too long for the header.
    assert.equal(loginUrl(`/${'&'.repeat(1000)}`), '/oauth2/login');
    for (const target of [`${longest}b`, `/${'\u00e9'.repeat(500)}`, `/${'&'.repeat(1000)}`, longest]) {
      assert.ok(loginUrl(target, '/some/prefix').length <= 2048 + '/some/prefix/oauth2/login?redirect='.length);
    }
  });
});

describe('withQueryParam', () => {
  it('adds a parameter with ? or &, its value encoded', () => {
    assert.equal(withQueryParam('/oauth2/login', 'claims', '{"a":1}'), '/oauth2/login?claims=%7B%22a%22%3A1%7D');
    assert.equal(
      withQueryParam('/oauth2/login?redirect=%2F', 'claims', 'x&y'),
      '/oauth2/login?redirect=%2F&claims=x%26y',
    );
  });
});

describe('loginUrlWith', () => {
  it('keeps the way back when the whole URL fits, and drops it (never the parameter) when it would not', () => {
    assert.equal(loginUrlWith('/r', '', 'claims', '{}'), '/oauth2/login?redirect=%2Fr&claims=%7B%7D');
    const claims = JSON.stringify({ access_token: { acrs: { essential: true, values: Array(200).fill('c1') } } });
    const redirect = `/${'a'.repeat(1000)}`;
    const url = loginUrlWith(redirect, '/app', 'claims', claims);
    assert.ok(url.length <= MAX_LOGIN_URL, String(url.length));
    assert.equal(url, `/app/oauth2/login?claims=${encodeURIComponent(claims)}`);
  });
});
