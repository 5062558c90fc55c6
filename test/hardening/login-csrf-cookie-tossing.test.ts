import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIngress, type Ingress } from '../../src/config/ingress.js';
import { stripCookies } from '../../src/cookies/cookie-header.js';
import {
  COOKIE_PREFIX,
  cookieOptions,
  loginCookieName,
  loginsCookieName,
  logoutCookieName,
} from '../../src/cookies/our-cookies.js';

// Review 2, finding 2: the attacker starts a login, signs in at Entra as himself, stops before the callback, and
// has his sibling subdomain plant his login cookie (Domain=<parent>; Path=/oauth2/callback) in the victim's
// browser, then sends it to his callback URL: the victim's session is replaced by the attacker's (nothing binds
// the login cookie to the browser but its name, and a __Secure- name may carry a Domain). On an https root
// ingress our login, logout and counter cookies are now __Host- (no Domain possible, Path=/). The browser side
// is in test/e2e/cookie-tossing-browser.test.ts.

function ingress(url: string): Ingress {
  const i = parseIngress(url);
  assert.ok(typeof i !== 'string', i as string);
  return i;
}

describe('login CSRF by a planted login cookie on an https root ingress', () => {
  it('cookie tossing: the login cookie of an https root ingress cannot be planted by a sibling subdomain (__Host-)', () => {
    const root = ingress('https://app.example.com');
    // A __Secure- cookie may carry Domain=example.com: evil.example.com sets it for app.example.com's callback.
    assert.match(loginCookieName(root, 'abcdefghijklmnopqrstuvwxyz'), /^__Host-/, 'login cookie name');
    assert.equal(cookieOptions(root, 'login').path, '/');
  });

  it('cookie tossing: the logout and login-counter cookies of an https root ingress are __Host- too', () => {
    const root = ingress('https://app.example.com');
    assert.match(logoutCookieName(root), /^__Host-/);
    assert.match(loginsCookieName(root), /^__Host-/);
    assert.equal(cookieOptions(root, 'logout').path, '/');
    assert.equal(cookieOptions(root, 'logins').path, '/');
  });

  it('login CSRF: login state sent with every request (Path=/) never reaches the app', () => {
    const root = ingress('https://app.example.com');
    const header = `app=1; ${loginCookieName(root, 'abcdefghijklmnopq')}=sealed; ${loginsCookieName(root)}=1.2; ${logoutCookieName(root)}=x; z=2`;
    assert.equal(stripCookies(header, COOKIE_PREFIX), 'app=1; z=2');
  });
});
