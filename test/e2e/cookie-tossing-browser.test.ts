/**
 * Cookie tossing in a real browser (issue 15, item 1). vestibule's ingress is https://app.vestibule.test behind a
 * TLS-terminating front (a throwaway openssl certificate; Chromium runs with --ignore-certificate-errors and
 * resolves *.vestibule.test to 127.0.0.1). A sibling, https://evil.vestibule.test, plants the attacker's genuine
 * session for the parent domain under every name it can. Chromium refuses a __Host- cookie with a Domain, and
 * vestibule reads only __Host-vestibule.session on an https root ingress, so the victim's requests never carry
 * the attacker's token: anonymous before login, the victim's own after. The sibling cannot plant the attacker's
 * login cookie either (login CSRF, review 2 finding 2): on an https root ingress it is __Host- with Path=/.
 * Debian's Chromium only, never downloaded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { makeTestCerts } from '../support/tls-certs.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const SESSION = 'vestibule.session';

/** The TLS front: the sibling's planting page on evil.vestibule.test, everything else passed to vestibule. */
async function startFront(certDir: string, target: () => string): Promise<{ server: Server; port: number }> {
  const certs = await makeTestCerts(certDir);
  const server = createHttpsServer(
    { cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) },
    (req, res) => {
      const host = (req.headers.host ?? '').split(':')[0];
      if (host === 'evil.vestibule.test') {
        // ?v=value, and optionally ?n=name (the session cookie's by default) and ?p=path (`/` by default).
        const query = new URL(req.url ?? '/', 'https://x').searchParams;
        const value = query.get('v') ?? '';
        const name = query.get('n') ?? SESSION;
        const parent = `Domain=vestibule.test; Path=${query.get('p') ?? '/'}; Secure; SameSite=Lax`;
        res.setHeader('set-cookie', [
          `${name}=${value}; ${parent}`,
          `__Secure-${name}=${value}; ${parent}`,
          `__Host-${name}=${value}; ${parent}`,
        ]);
        res.setHeader('content-type', 'text/html');
        res.end('<p>planted</p>');
        return;
      }
      const up = new URL(target());
      const forwarded = httpRequest(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The `preferred_username` of the bearer token the app saw on /echo, or undefined when none was forwarded. */
async function userSeenByApp(page: Page, url: string): Promise<string | undefined> {
  await page.goto(url);
  const echo = JSON.parse((await page.locator('body').textContent()) ?? '{}') as {
    headers: Record<string, string>;
  };
  assert.doesNotMatch(echo.headers.cookie ?? '', /vestibule/i, 'none of our cookies reach the app');
  const auth = echo.headers.authorization;
  if (!auth) return undefined;
  const payload = auth.slice('Bearer '.length).split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { preferred_username?: string })
    .preferred_username;
}

describe('cookie tossing in Chromium (https ingress, sibling subdomain)', { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  let front: { server: Server; port: number } | undefined;
  let h: Harness | undefined;
  let mock: MockEntra | undefined;
  let redis: RedisServer | undefined;
  let upstream: Upstream | undefined;
  let certDir = '';

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'vestibule-tossing-'));
    front = await startFront(certDir, () => h!.origin);
    const ingress = `https://app.vestibule.test:${front.port}`;
    const { privateJwk, publicJwk } = await generateClientJwk();
    const clientId = randomBytes(8).toString('hex');
    mock = await startMockEntra({
      clients: [
        {
          clientId,
          name: 'test:team:app',
          publicJwks: { keys: [publicJwk] },
          redirectUris: [`${ingress}/oauth2/callback`],
          postLogoutRedirectUris: [`${ingress}/oauth2/logout/callback`],
        },
      ],
    });
    redis = await startRedis();
    upstream = await startUpstream();
    h = await startHarness({
      logLevel: 'warn',
      env: { VESTIBULE_INGRESS: ingress },
      shared: {
        mock,
        redis,
        upstream,
        clientId,
        clientJwk: JSON.stringify(privateJwk),
        encryptionKey: randomBytes(32).toString('base64'),
      },
    });
    browser = await launchChromium([
      '--ignore-certificate-errors',
      '--host-resolver-rules=MAP *.vestibule.test 127.0.0.1',
    ]);
  });

  after(async () => {
    await browser?.close();
    await h?.close();
    await mock?.close();
    await upstream?.close();
    await redis?.close();
    front?.server.close();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it("cookie tossing: a session planted by a sibling for the parent domain never rides on the victim's requests", async () => {
    const app = `https://app.vestibule.test:${front!.port}`;

    // The attacker logs in with their own browser and keeps their genuine session cookie.
    const attackerContext = await browser!.newContext({ ignoreHTTPSErrors: true });
    const attackerPage = await attackerContext.newPage();
    attackerPage.setDefaultTimeout(10_000);
    await attackerPage.goto(`${app}/oauth2/login?redirect=%2Fecho%2Fattacker`);
    await attackerPage.getByRole('button', { name: 'Hansen, Ola' }).click();
    await attackerPage.waitForURL(`${app}/echo/attacker`);
    const attackerCookies = await attackerContext.cookies(app);
    assert.deepEqual(
      attackerCookies.map((c) => c.name).sort(),
      ['__Host-vestibule.logins', `__Host-${SESSION}`],
      'on an https root ingress the session and login-counter cookies are __Host- (and the login cookie is gone)',
    );
    const stolen = attackerCookies.find((c) => c.name === `__Host-${SESSION}`)!;
    assert.equal(stolen.path, '/');
    assert.equal(stolen.secure, true);
    assert.equal(stolen.domain, 'app.vestibule.test', 'host-only');
    assert.equal(await userSeenByApp(attackerPage, `${app}/echo/a`), 'ola.hansen@nav.example');

    // The victim visits the sibling, which plants the attacker's session for the whole parent domain.
    const victimContext = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await victimContext.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`https://evil.vestibule.test:${front!.port}/plant?v=${stolen.value}`);
    const planted = (await victimContext.cookies(app)).map((c) => `${c.name}@${c.domain}`).sort();
    assert.deepEqual(
      planted,
      [`__Secure-${SESSION}@.vestibule.test`, `${SESSION}@.vestibule.test`],
      'Chromium keeps the plain and __Secure- plants, refuses the __Host- one with a Domain',
    );

    // The browser sends both planted cookies to the app; vestibule uses neither.
    assert.equal(await userSeenByApp(page, `${app}/echo/before-login`), undefined);

    // The victim logs in: their own session is used, never the attacker's.
    await page.goto(`${app}/oauth2/login?redirect=%2Fecho%2Fvictim`);
    await page.getByRole('button', { name: 'Nordmann, Kari' }).click();
    await page.waitForURL(`${app}/echo/victim`);
    assert.equal(await userSeenByApp(page, `${app}/echo/after-login`), 'kari.nordmann@nav.example');
    await attackerContext.close();
    await victimContext.close();
  });

  it('login CSRF: a login cookie planted by a sibling for the parent domain is not the one the callback reads', async () => {
    const app = `https://app.vestibule.test:${front!.port}`;

    // The attacker signs in at Entra as himself and stops before the callback: he keeps its URL and his login cookie.
    const attackerContext = await browser!.newContext({ ignoreHTTPSErrors: true });
    const attackerPage = await attackerContext.newPage();
    attackerPage.setDefaultTimeout(10_000);
    let callbackUrl: string | undefined;
    // Playwright does not route a redirect's next hop, so the identity provider's answer is fetched here and its
    // redirect to our callback kept instead of followed.
    await attackerPage.route(
      (url) => !url.hostname.endsWith('vestibule.test'),
      async (route) => {
        const answer = await route.fetch({ maxRedirects: 0 });
        const location = answer.headers().location;
        if (location?.startsWith(`${app}/oauth2/callback`)) {
          callbackUrl = location;
          await route.fulfill({ status: 200, contentType: 'text/plain', body: 'stopped before the callback' });
        } else {
          await route.fulfill({ response: answer });
        }
      },
    );
    await attackerPage.goto(`${app}/oauth2/login?redirect=%2Fecho%2Fattacker`);
    await attackerPage.getByRole('button', { name: 'Hansen, Ola' }).click();
    await attackerPage.getByText('stopped before the callback').waitFor();
    assert.ok(callbackUrl, 'the attacker holds a callback URL with his code and state');
    const loginCookie = (await attackerContext.cookies(app)).find((c) => c.name.includes('vestibule.login.'));
    assert.ok(loginCookie, 'the attacker holds his login cookie');
    assert.match(loginCookie.name, /^__Host-vestibule\.login\./, 'an https root ingress names it __Host-');
    assert.equal(loginCookie.path, '/');
    assert.equal(loginCookie.domain, 'app.vestibule.test', 'host-only');
    const bare = loginCookie.name.slice('__Host-'.length);

    // The sibling plants it for the parent domain under every prefix, at the callback path and at `/`.
    const victimContext = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await victimContext.newPage();
    page.setDefaultTimeout(10_000);
    for (const path of ['/oauth2/callback', '/']) {
      await page.goto(
        `https://evil.vestibule.test:${front!.port}/plant?n=${bare}&p=${encodeURIComponent(path)}&v=${loginCookie.value}`,
      );
    }
    const planted = (await victimContext.cookies(`${app}/oauth2/callback`)).map((c) => c.name);
    assert.ok(planted.includes(`__Secure-${bare}`), 'Chromium keeps the __Secure- plant (it may carry a Domain)');
    assert.ok(!planted.some((n) => n.startsWith('__Host-')), 'Chromium refuses every __Host- plant with a Domain');

    // The victim is sent to the attacker's callback URL: the cookie vestibule reads is not in the request.
    let sentCookies = '';
    await page.route(`${app}/oauth2/callback**`, async (route) => {
      sentCookies = (await route.request().allHeaders()).cookie ?? '';
      await route.continue();
    });
    const answer = await page.goto(callbackUrl);
    assert.ok(sentCookies.includes(`__Secure-${bare}=`), 'the planted __Secure- cookie rides along…');
    assert.ok(!sentCookies.includes(`__Host-${bare}=`), '…but no __Host- login cookie, the only name read');
    assert.notEqual(answer?.status(), 302);
    assert.ok((answer?.status() ?? 0) >= 400, `the callback finds no login state (got ${answer?.status()})`);
    assert.equal(await userSeenByApp(page, `${app}/echo/after-callback`), undefined, 'not logged in as the attacker');
    await attackerContext.close();
    await victimContext.close();
  });
});
