import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIngress, type Ingress } from '../config/ingress.js';
import { stripCookies } from './cookie-header.js';
import {
  COOKIE_PREFIX,
  cookieOptions,
  loginCookieName,
  loginsCookieName,
  logoutCookieName,
  sessionCookieName,
} from './our-cookies.js';

function ingress(url: string): Ingress {
  const i = parseIngress(url);
  assert.ok(typeof i !== 'string', i as string);
  return i;
}

describe('our cookie names and attributes per ingress (cookie tossing, issue 15 item 1)', () => {
  const STATE = 'abcdefghijklmnopqrstuvwxyz';

  it('cookie tossing: an https root ingress names the session __Host- (Secure, Path=/, no Domain)', () => {
    const root = ingress('https://app.example.com');
    assert.equal(sessionCookieName(root), '__Host-vestibule.session');
    const o = cookieOptions(root, 'session');
    assert.equal(o.path, '/');
    assert.equal(o.secure, true);
    assert.equal('domain' in o, false);
  });

  it('cookie tossing: an https sub-path ingress names the session __Secure- (a __Host- cookie must have Path=/)', () => {
    const app = ingress('https://example.com/app');
    assert.equal(sessionCookieName(app), '__Secure-vestibule.session');
    assert.equal(cookieOptions(app, 'session').path, '/app');
  });

  it('login CSRF: on an https root ingress, login, logout and counter cookies are __Host- with Path=/', () => {
    const i = ingress('https://app.example.com');
    assert.equal(loginCookieName(i, STATE), '__Host-vestibule.login.abcdefghijklmnop');
    assert.equal(logoutCookieName(i), '__Host-vestibule.logout');
    assert.equal(loginsCookieName(i), '__Host-vestibule.logins');
    for (const scope of ['login', 'logout', 'logins'] as const) {
      const o = cookieOptions(i, scope, 600);
      assert.deepEqual(o, { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 600 }, scope);
      assert.equal('domain' in o, false);
    }
  });

  it('login CSRF: on an https sub-path ingress they stay __Secure- and scoped to their paths (a __Host- cookie must have Path=/)', () => {
    const i = ingress('https://example.com/app');
    assert.equal(loginCookieName(i, STATE), '__Secure-vestibule.login.abcdefghijklmnop');
    assert.equal(logoutCookieName(i), '__Secure-vestibule.logout');
    assert.equal(loginsCookieName(i), '__Secure-vestibule.logins');
    assert.equal(cookieOptions(i, 'login').path, '/app/oauth2/callback');
    assert.equal(cookieOptions(i, 'logout').path, '/app/oauth2/logout/callback');
    assert.equal(cookieOptions(i, 'logins').path, '/app/oauth2/login');
    for (const scope of ['login', 'logout', 'logins'] as const) assert.equal(cookieOptions(i, scope).secure, true);
  });

  it('http://localhost development ingresses keep the plain names (browsers refuse prefixes without Secure)', () => {
    for (const url of ['http://localhost:7564', 'http://127.0.0.1:8080/app']) {
      const i = ingress(url);
      assert.equal(sessionCookieName(i), 'vestibule.session');
      assert.equal(loginCookieName(i, STATE), 'vestibule.login.abcdefghijklmnop');
      assert.equal(logoutCookieName(i), 'vestibule.logout');
      assert.equal(cookieOptions(i, 'session').secure, false);
      assert.equal(cookieOptions(i, 'login').path, `${i.routePrefix}/oauth2/callback`, 'scoped to the callback');
    }
  });

  it('every name of ours, prefixed or not, is stripped before proxying', () => {
    const names = ['https://a.example', 'https://a.example/app', 'http://localhost'].flatMap((url) => {
      const i = ingress(url);
      return [sessionCookieName(i), loginCookieName(i, STATE), logoutCookieName(i), loginsCookieName(i)];
    });
    assert.ok(names.every((n) => n.includes(COOKIE_PREFIX)));
    const header = ['app=1', ...names.map((n) => `${n}=x`), 'z=2'].join('; ');
    assert.equal(stripCookies(header, COOKIE_PREFIX), 'app=1; z=2');
  });
});
