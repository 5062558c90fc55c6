/**
 * The whole login in a real browser: headless Debian Chromium (never a downloaded one) → vestibule → mock Entra ID
 * login page → back to the demo app, which shows the user from the forwarded token; then logout through the mock's
 * end-session endpoint. Chromium missing is a failure, not a skip: CI installs it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { startDemoApp, type DemoApp } from '../../demo/app.js';
import { startHarness, type Harness } from '../support/harness.js';

const SCREENSHOT = '/tmp/vestibule-demo.png';

/** Every top-level navigation (redirect hops included) from now on; `take()` returns and clears them. */
function recordNavigations(page: Page): { take(): string[] } {
  let urls: string[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) urls.push(request.url());
  });
  return {
    take: () => {
      const out = urls;
      urls = [];
      return out;
    },
  };
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

describe('browser login through vestibule (headless Chromium)', { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  let demo: DemoApp | undefined;

  before(async () => {
    browser = await launchChromium();
    demo = await startDemoApp({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** A harness in front of the demo app and a fresh browser context; both closed when the test ends. */
  async function setUp(
    t: { after(fn: () => Promise<void>): void },
    env: Record<string, string> = {},
  ): Promise<{ h: Harness; context: BrowserContext; page: Page }> {
    const h = await startHarness({ env: { VESTIBULE_UPSTREAM: demo!.url, ...env }, logLevel: 'info' });
    const context = await browser!.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(async () => {
      await context.close();
      await h.close();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return { h, context, page };
  }

  it('logs in on the mock login page, shows the user, keeps the session cookie from scripts, logs out', async (t) => {
    const { h, context, page } = await setUp(t);
    const authorize = `${h.mock.url}/${h.mock.tenantId}/oauth2/v2.0/authorize`;
    const navigations = recordNavigations(page);

    await page.goto(`${h.ingress}/`);
    assert.equal(await text(page, '#status'), 'Not logged in');
    navigations.take();

    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.href.startsWith(authorize));
    assert.equal(await text(page, 'h1'), 'Mock Entra ID — sign in');
    const toLogin = navigations.take();
    assert.equal(toLogin[0], `${h.ingress}/oauth2/login?redirect=%2F`);
    assert.ok(toLogin[1]?.startsWith(`${authorize}?`), `second hop goes to the mock: ${toLogin.join(' → ')}`);

    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.waitForURL(`${h.ingress}/`);
    assert.equal(await text(page, '#user-name'), 'Nordmann, Kari');
    assert.equal(await text(page, '#nav-ident'), 'Z990001');
    assert.equal(await text(page, 'tr:has(th:text-is("aud")) td'), h.clientId);
    assert.equal(await text(page, 'tr:has(th:text-is("preferred_username")) td'), 'kari.nordmann@nav.example');
    const back = navigations.take();
    assert.ok(
      back.some((u) => u.startsWith(`${h.ingress}/oauth2/callback?`)),
      back.join(' → '),
    );
    assert.equal(back.at(-1), `${h.ingress}/`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const cookies = await context.cookies(h.ingress);
    assert.deepEqual(
      cookies.map((c) => c.name),
      ['vestibule.session'],
      'only the session cookie is left: the login cookie is single-use',
    );
    const session = cookies[0]!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.path, '/');
    const scriptVisible = await page.evaluate('document.cookie');
    assert.equal(typeof scriptVisible, 'string');
    assert.ok(!String(scriptVisible).includes('vestibule'), `document.cookie shows ${String(scriptVisible)}`);

    // The same session serves the app's API (a fetch from this browser context, with its cookies).
    const me = await context.request.get(`${h.ingress}/api/me`);
    assert.equal(me.status(), 200);
    assert.equal(((await me.json()) as { NAVident?: string }).NAVident, 'Z990001');

    await page.getByRole('link', { name: 'Log out' }).click();
    await page.locator('#status').waitFor();
    assert.equal(await text(page, '#status'), 'You are logged out here and at Entra ID');
    assert.equal(page.url(), `${h.ingress}/?logged_out=1`);
    const out = navigations.take();
    assert.equal(out[0], `${h.ingress}/oauth2/logout?redirect=%2F%3Flogged_out%3D1`);
    assert.ok(out[1]?.startsWith(`${h.mock.url}/${h.mock.tenantId}/oauth2/v2.0/logout?`), out.join(' → '));
    assert.ok(out[2]?.startsWith(`${h.ingress}/oauth2/logout/callback?state=`), out.join(' → '));
    assert.equal(out.at(-1), `${h.ingress}/?logged_out=1`);
    const calls = h.mock.endSessionCalls();
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.postLogoutRedirectUri, `${h.ingress}/oauth2/logout/callback`);
    assert.ok(call.idTokenHint, 'vestibule sends the ID token as id_token_hint');
    assert.deepEqual(
      (await context.cookies(h.ingress)).map((c) => c.name),
      [],
    );
    assert.equal((await context.request.get(`${h.ingress}/api/me`)).status(), 401);
  });

  it('with auto-login, a deep link goes straight to the mock login page and comes back to it', async (t) => {
    const { h, page } = await setUp(t, { VESTIBULE_AUTO_LOGIN: 'true' });
    const authorize = `${h.mock.url}/${h.mock.tenantId}/oauth2/v2.0/authorize`;

    await page.goto(`${h.ingress}/somewhere`);
    assert.ok(page.url().startsWith(`${authorize}?`), `landed on ${page.url()}`);
    assert.equal(await page.locator('#status').count(), 0, 'the app page is never shown before login');

    await page.getByRole('button', { name: 'Hansen, Ola' }).click();
    await page.waitForURL(`${h.ingress}/somewhere`);
    assert.equal(await text(page, '#user-name'), 'Hansen, Ola');
    assert.equal(await text(page, '#nav-ident'), 'Z990002');
    assert.match(await text(page, 'footer'), /you asked for \/somewhere/);
  });
});
