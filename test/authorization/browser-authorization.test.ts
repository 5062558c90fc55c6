/**
 * Issue 17 in a real browser (headless Debian Chromium): a signed-in user outside a rule's groups sees the
 * "Access denied" page, a single-page app reads who is signed in from /oauth2/userinfo, and a page of another
 * origin calls a protected API with a bearer token through a real CORS preflight, which passes only with
 * VESTIBULE_SKIP_AUTH_PREFLIGHT. Chromium missing is a failure, not a skip.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { MOCK_GROUPS } from '../../mock-entra/users.js';
import { launchChromium } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server & { url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

const close = (s: Server): Promise<void> =>
  new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

describe('authorization in a real browser (headless Chromium)', { timeout: 90_000 }, () => {
  let browser: Browser;
  /** The app behind vestibule: answers CORS for any origin and says whether a bearer token came along. */
  let app: Server & { url: string };
  const appSaw: { method: string; path: string; bearer: boolean }[] = [];
  /** Another origin's page, which calls the protected API cross-origin. */
  let otherSite: Server & { url: string };

  before(async () => {
    browser = await launchChromium();
    app = await listen((req, res) => {
      appSaw.push({
        method: req.method ?? '',
        path: req.url ?? '',
        bearer: (req.headers.authorization ?? '').startsWith('Bearer '),
      });
      res.setHeader('access-control-allow-origin', req.headers.origin ?? '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-headers': 'authorization', 'access-control-allow-methods': 'GET' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<h1 id="app">app page ${req.url ?? ''}</h1>`);
    });
    otherSite = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>another site</h1>');
    });
  });
  after(async () => {
    await browser.close();
    await close(app);
    await close(otherSite);
  });

  async function setUp(
    t: { after(fn: () => Promise<void>): void },
    env: Record<string, string>,
  ): Promise<{ h: Harness; page: Page }> {
    const h = await startHarness({ logLevel: 'warn', env: { VESTIBULE_UPSTREAM: app.url, ...env } });
    const context = await browser.newContext();
    t.after(async () => {
      await context.close();
      await h.close();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return { h, page };
  }

  async function signIn(h: Harness, page: Page, who: string, target: string): Promise<void> {
    await page.goto(`${h.ingress}/oauth2/login?redirect=${encodeURIComponent(target)}`);
    await page.getByRole('button', { name: who }).click();
    await page.waitForURL((u) => u.pathname === target);
  }

  it('a user outside the groups sees the Access denied page; a member sees the app; userinfo names them', async (t) => {
    const { h, page } = await setUp(t, {
      VESTIBULE_REQUIRE_TOKEN_PATHS: `/cases/** groups=${MOCK_GROUPS.saksbehandler}`,
    });
    await signIn(h, page, 'Hansen, Ola', '/home');
    const denied = await page.goto(`${h.ingress}/cases/1`);
    assert.equal(denied?.status(), 403);
    assert.equal(await page.title(), 'Access denied');
    assert.match((await page.textContent('body')) ?? '', /not a member of a group that has access/);
    assert.ok(!appSaw.some((s) => s.path === '/cases/1'), 'the refused request reached the app');

    // The app's page script asks who is signed in: no token of its own needed. (Not from the error page, whose
    // Content-Security-Policy allows no fetch at all.)
    await page.goto(`${h.ingress}/home`);
    const me = await page.evaluate(async () => {
      const res = await fetch('/oauth2/userinfo');
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    assert.equal(me.status, 200);
    assert.equal(me.body.name, 'Hansen, Ola');
    assert.deepEqual(me.body.groups, [MOCK_GROUPS.veileder]);

    await page.context().clearCookies();
    await signIn(h, page, 'Nordmann, Kari', '/home');
    const allowed = await page.goto(`${h.ingress}/cases/1`);
    assert.equal(allowed?.status(), 200);
    assert.equal(await page.textContent('#app'), 'app page /cases/1');
  });

  /** From another origin's page: GET the protected API with a bearer token (a header that needs a preflight). */
  async function crossOriginCall(h: Harness, page: Page): Promise<string> {
    const token = await h.mock.mintAccessToken({ audience: h.clientId });
    await page.goto(otherSite.url);
    return page.evaluate(
      async ([url, bearer]) => {
        try {
          const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
          return `status ${res.status}`;
        } catch (err) {
          return `failed: ${(err as Error).message}`;
        }
      },
      [`${h.ingress}/api/data`, token] as const,
    );
  }

  it('with VESTIBULE_SKIP_AUTH_PREFLIGHT the preflight reaches the app and the call succeeds', async (t) => {
    const { h, page } = await setUp(t, {
      VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**',
      VESTIBULE_SKIP_AUTH_PREFLIGHT: 'true',
    });
    const before = appSaw.length;
    assert.equal(await crossOriginCall(h, page), 'status 200');
    const seen = appSaw.slice(before).filter((s) => s.path === '/api/data');
    assert.deepEqual(
      seen.map((s) => [s.method, s.bearer]),
      [
        ['OPTIONS', false],
        ['GET', true],
      ],
    );
  });

  it('without it the preflight is refused (401) and the browser never sends the call', async (t) => {
    const { h, page } = await setUp(t, { VESTIBULE_REQUIRE_TOKEN_PATHS: '/api/**' });
    const before = appSaw.length;
    assert.match(await crossOriginCall(h, page), /^failed: /);
    // The browser's failure could have any cause: the same preflight sent directly shows it was vestibule's 401.
    const preflight = await fetch(`${h.ingress}/api/data`, {
      method: 'OPTIONS',
      headers: {
        origin: otherSite.url,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(preflight.status, 401);
    assert.equal(appSaw.slice(before).filter((s) => s.path === '/api/data').length, 0);
  });
});
