import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizeParams, authorizeUrl, pkce, startFixture, submitLogin, WEB } from './test-fixtures.js';
import type { Fixture } from './test-fixtures.js';

describe('authorize endpoint', () => {
  let f: Fixture;
  const { challenge } = pkce();
  before(async () => {
    f = await startFixture();
  });
  after(() => f.mock.close());

  async function getAuthorize(params: Record<string, string>): Promise<Response> {
    return fetch(`${authorizeUrl(f.mock)}?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });
  }

  it('shows a login page with a button per user and every parameter carried as hidden inputs', async () => {
    const params = authorizeParams(challenge, {
      login_hint: 'ola.hansen@nav.example',
      prompt: 'login',
      ui_locales: 'nb',
      acr_values: 'urn:mock:mfa',
      domain_hint: 'nav.example',
      max_age: '3600',
    });
    const res = await getAuthorize(params);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<title>Mock Entra ID — sign in<\/title>/);
    assert.match(html, /<html lang="nb">/);
    for (const user of f.mock.users) {
      assert.ok(html.includes(`<button type="submit" name="username" value="${user.username}">`), user.username);
    }
    assert.equal(html.match(/<form method="post"/g)?.length, 2);
    for (const [key, value] of Object.entries(params)) {
      assert.equal(
        html.split(`<input type="hidden" name="${key}" value="${value}">`).length - 1,
        2,
        `hidden ${key} in both forms`,
      );
    }
    assert.match(
      html,
      /<input id="username" name="username" type="text" autocomplete="username" value="ola\.hansen@nav\.example">/,
    );
    assert.deepEqual(f.mock.lastAuthorizeParams(), params);
  });

  it('refuses an unregistered redirect_uri with a 400 page and no redirect', async () => {
    const res = await getAuthorize(authorizeParams(challenge, { redirect_uri: 'https://evil.example/callback' }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /AADSTS50011/);
  });

  it('refuses an unknown client with a 400 page', async () => {
    const res = await getAuthorize(authorizeParams(challenge, { client_id: '99999999-9999-4999-8999-999999999999' }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /AADSTS700016/);
  });

  const invalid: [string, Record<string, string | undefined>, RegExp][] = [
    ['missing code_challenge', { code_challenge: undefined }, /AADSTS9002325/],
    ['plain PKCE', { code_challenge_method: 'plain' }, /AADSTS9002325/],
    ['malformed code_challenge', { code_challenge: 'short' }, /AADSTS501491/],
    ['missing nonce', { nonce: undefined }, /AADSTS900144.*nonce/],
    ['missing state', { state: undefined }, /AADSTS900144.*state/],
    ['no openid scope', { scope: `api://${WEB.clientId}/.default` }, /AADSTS70011/],
    ['response_type token', { response_type: 'token' }, /AADSTS700054/],
    ['unknown resource', { scope: 'openid api://nope.nope.nope/.default' }, /AADSTS500011/],
    [
      'two resources',
      { scope: `openid api://${WEB.clientId}/.default https://graph.microsoft.com/User.Read` },
      /AADSTS28000/,
    ],
    ['unknown prompt', { prompt: 'sometimes' }, /AADSTS90023/],
  ];
  for (const [name, overrides, message] of invalid) {
    it(`refuses ${name} with a 400 page`, async () => {
      const res = await getAuthorize(authorizeParams(challenge, overrides));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), message);
    });
  }

  it('refuses a repeated parameter', async () => {
    const query = `${new URLSearchParams(authorizeParams(challenge)).toString()}&state=again`;
    const res = await fetch(`${authorizeUrl(f.mock)}?${query}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /AADSTS9000411/);
  });

  it('answers prompt=none with login_required at the redirect URI (no SSO session in the mock)', async () => {
    const res = await getAuthorize(authorizeParams(challenge, { prompt: 'none' }));
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, WEB.redirectUri);
    assert.equal(location.searchParams.get('error'), 'login_required');
    assert.match(location.searchParams.get('error_description') ?? '', /^AADSTS50058/);
    assert.equal(location.searchParams.get('state'), 'state-123');
  });

  it('redirects a chosen user back with code, state and a new session_state per login', async () => {
    const params = authorizeParams(challenge);
    const first = await submitLogin(f.mock, params, f.mock.users[1]!.username);
    const second = await submitLogin(f.mock, params, f.mock.users[1]!.username);
    assert.equal(first.status, 302);
    const a = new URL(first.headers.get('location') ?? '');
    const b = new URL(second.headers.get('location') ?? '');
    assert.equal(`${a.origin}${a.pathname}`, WEB.redirectUri);
    assert.equal(a.searchParams.get('state'), 'state-123');
    assert.match(a.searchParams.get('code') ?? '', /^0\.A[A-Za-z0-9_-]{80,}$/);
    assert.match(
      a.searchParams.get('session_state') ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.notEqual(a.searchParams.get('session_state'), b.searchParams.get('session_state'));
    assert.notEqual(a.searchParams.get('code'), b.searchParams.get('code'));
  });

  it('creates a user on the fly for a typed name', async () => {
    const before = f.mock.users.length;
    const res = await submitLogin(f.mock, authorizeParams(challenge), 'Per Olsen');
    assert.equal(res.status, 302);
    assert.equal(f.mock.users.length, before + 1);
    const user = f.mock.users.at(-1)!;
    assert.equal(user.username, 'per.olsen@nav.example');
    assert.equal(user.name, 'Per Olsen');
    assert.match(user.navIdent, /^Z\d{6}$/);
    await submitLogin(f.mock, authorizeParams(challenge), 'per.olsen@nav.example');
    assert.equal(f.mock.users.length, before + 1, 'same user reused');
  });

  it('re-shows the page with 400 when no user was chosen', async () => {
    const res = await submitLogin(f.mock, authorizeParams(challenge), '  ');
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Choose a user or type a name/);
  });

  it('validates the submitted form as strictly as the GET', async () => {
    const res = await submitLogin(f.mock, authorizeParams(challenge, { redirect_uri: 'https://evil.example/' }), 'x');
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });

  it('supports response_mode=form_post', async () => {
    const res = await submitLogin(f.mock, authorizeParams(challenge, { response_mode: 'form_post' }), 'x');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.ok(html.includes(`<form method="post" action="${WEB.redirectUri}">`));
    assert.match(html, /<input type="hidden" name="code" value="0\.A[^"]+">/);
    assert.ok(html.includes('<input type="hidden" name="state" value="state-123">'));
  });
});
