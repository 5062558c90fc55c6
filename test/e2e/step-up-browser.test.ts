/**
 * Step-up in a real browser (headless Debian Chromium): a signed-in user opens a page the app protects with the
 * authentication context c1; the app answers `insufficient_claims`; vestibule sends the browser through the mock
 * Entra ID's login again with that claims request (and cp1), and the user lands on the page with a token whose
 * `acrs` satisfies the app. A fetch from the page to the same API gets 401 JSON with the login URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { startHarness, type Harness } from '../support/harness.js';
import { C1_CLAIMS, startChallengeApp, type ChallengeApp } from '../step-up/challenge-app.js';

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

describe('step-up in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  let app: ChallengeApp | undefined;
  before(async () => {
    browser = await launchChromium();
    app = await startChallengeApp();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  async function setUp(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}) {
    const h: Harness = await startHarness({
      env: { VESTIBULE_UPSTREAM: app!.url, VESTIBULE_CLIENT_CAPABILITIES: 'cp1', ...env },
      logLevel: 'info',
    });
    await app!.trust(h.mock.wellKnownUrl);
    const context = await browser!.newContext();
    t.after(async () => {
      await context.close();
      await h.close();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const authorize = `${h.mock.url}/${h.mock.tenantId}/oauth2/v2.0/authorize`;
    // Signed in without any step-up first: the app sees a token without acrs.
    await page.goto(`${h.ingress}/oauth2/login?redirect=%2F`);
    await page.waitForURL((u) => u.href.startsWith(authorize));
    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.waitForURL(`${h.ingress}/`);
    assert.equal(await text(page, '#status'), 'Signed in');
    return { h, page, authorize };
  }

  it("the app's insufficient_claims challenge: login again with those claims, land with a token that satisfies them", async (t) => {
    const { h, page, authorize } = await setUp(t);

    // A fetch from the page: 401 JSON naming the login URL, back to this page.
    const api = await page.evaluate(async () => {
      const r = await fetch('/api/step-up', { headers: { accept: 'application/json' } });
      return { status: r.status, body: (await r.json()) as Record<string, string> };
    });
    assert.equal(api.status, 401);
    assert.equal(api.body.error, 'insufficient_claims');
    assert.equal(api.body.login_url, `/oauth2/login?redirect=%2F&claims=${encodeURIComponent(C1_CLAIMS)}`);

    // A navigation: straight through login with the claims request.
    await page.goto(`${h.ingress}/step-up/report`);
    await page.waitForURL((u) => u.href.startsWith(authorize));
    const asked = new URL(page.url()).searchParams.get('claims');
    assert.deepEqual(JSON.parse(asked ?? ''), {
      access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.waitForURL(`${h.ingress}/step-up/report`);
    assert.equal(await text(page, '#status'), 'Stepped up');
    assert.equal(await text(page, '#acrs'), 'c1');
    assert.equal(await text(page, '#xms_cc'), 'cp1');
    const seen = app!.seen.filter((s) => s.path === '/step-up/report');
    assert.deepEqual(seen.at(-1)?.acrs, ['c1']);
    assert.deepEqual(seen.at(0)?.acrs, undefined, 'the first request came with the token of the plain login');

    // The page's fetch now gets through too.
    const after = await page.evaluate(async () => (await fetch('/api/step-up')).status);
    assert.equal(after, 200);
  });

  it('an app a fresh login cannot satisfy: one round of login, then the 403 page, no loop', async (t) => {
    const { h, page, authorize } = await setUp(t);
    await page.goto(`${h.ingress}/always/x`);
    await page.waitForURL((u) => u.href.startsWith(authorize));
    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.locator('h1').filter({ hasText: 'Additional sign-in did not help' }).waitFor();
    assert.ok(page.url().startsWith(`${h.ingress}/oauth2/login?redirect=%2Falways%2Fx&claims=`), page.url());
  });

  // The rule's verdict (src/access/decision.ts) sends the browser to the same stepUpLoginUrl as the app's challenge.
  it('a VESTIBULE_REQUIRE_TOKEN_PATHS rule with acrs=c1 steps up before the app is asked', async (t) => {
    const { h, page, authorize } = await setUp(t, { VESTIBULE_REQUIRE_TOKEN_PATHS: '/rule/** acrs=c1' });
    // Counted by path: the landing page's own late requests (Chromium's favicon) reach the app too.
    const ruled = (): number => app!.seen.filter((s) => s.path.startsWith('/rule/')).length;
    const before = ruled();
    await page.goto(`${h.ingress}/rule/page`);
    await page.waitForURL((u) => u.href.startsWith(authorize));
    const asked = JSON.parse(new URL(page.url()).searchParams.get('claims') ?? '') as {
      access_token?: { acrs?: { essential?: boolean; value?: string; values?: string[] } };
    };
    const acrs = asked.access_token?.acrs;
    assert.ok(acrs, JSON.stringify(asked));
    assert.equal(acrs.essential, true);
    assert.ok(acrs.value === 'c1' || acrs.values?.includes('c1') === true, JSON.stringify(asked));
    assert.equal(ruled(), before, 'the app never saw the request without c1');
    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.waitForURL(`${h.ingress}/rule/page`);
    assert.deepEqual(app!.seen.at(-1)?.acrs, ['c1']);
  });
});
