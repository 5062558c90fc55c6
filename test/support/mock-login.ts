/**
 * Logging in at the mock Entra ID as a browser does, in steps a test can stop between or tamper with:
 * {@link startLogin} (GET /oauth2/login → the mock's authorize URL), {@link showSignInPage} (the mock's form),
 * {@link submitSignIn} (POST the user's choice → the callback URL) and, all together, {@link untilCallback} and
 * {@link login}. Each step throws when the answer is not the one a working login gets.
 */
import { NAVIGATION, TestClient, type Response } from './http-client.js';

/** The user signed in when a test names none (mock-entra/users.ts). */
export const DEFAULT_USERNAME = 'ada';

/** Where the login starts: vestibule's ingress, e.g. http://127.0.0.1:PORT/app (no trailing slash). */
export interface LoginTarget {
  readonly ingress: string;
}

export interface StartOptions {
  /** The `redirect` parameter of /oauth2/login (encoded here). */
  readonly redirect?: string;
  /** The whole query string of /oauth2/login (without `?`); wins over `redirect`. */
  readonly query?: string;
}

export interface LoginOptions extends StartOptions {
  /** Whom to sign in as (default {@link DEFAULT_USERNAME}). */
  readonly username?: string;
  /** GET the mock's sign-in page before posting, as a browser does (default: true for {@link login}, false else). */
  readonly showPage?: boolean;
}

/** The URL of /oauth2/login with the query `o` asks for. */
export function loginUrl(target: LoginTarget, o: StartOptions = {}): string {
  const q = o.query ?? (o.redirect !== undefined ? `redirect=${encodeURIComponent(o.redirect)}` : '');
  return `${target.ingress}/oauth2/login${q ? `?${q}` : ''}`;
}

/** A 302 with a Location, or an error naming the step that did not redirect. */
function redirected(res: Response, step: string): string {
  if (res.status !== 302 || !res.location) throw new Error(`${step}: ${res.status} ${res.body.slice(0, 300)}`);
  return res.location;
}

/** GET /oauth2/login as a navigation; returns the mock's authorize URL it redirects to. */
export async function startLogin(target: LoginTarget, client: TestClient, o: StartOptions = {}): Promise<URL> {
  return new URL(redirected(await client.get(loginUrl(target, o), NAVIGATION), 'login did not redirect'));
}

/** GET the mock's sign-in page for `authorizeUrl`, as the browser shows it; throws unless 200. */
export async function showSignInPage(client: TestClient, authorizeUrl: URL): Promise<Response> {
  const page = await client.get(authorizeUrl, NAVIGATION);
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${page.body.slice(0, 300)}`);
  return page;
}

/**
 * POSTs the sign-in form for `authorizeUrl` as the mock's page would (every authorize parameter plus the chosen
 * `username`); returns the callback URL the mock redirects to, not yet visited.
 */
export async function submitSignIn(
  client: TestClient,
  authorizeUrl: URL,
  username: string = DEFAULT_USERNAME,
): Promise<URL> {
  const form = new URLSearchParams(authorizeUrl.searchParams);
  form.set('username', username);
  const submitted = await client.request(authorizeUrl.origin + authorizeUrl.pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return new URL(redirected(submitted, 'authorize POST'));
}

/** Starts a login and signs in at the mock, stopping before the callback; returns the callback URL. */
export async function untilCallback(target: LoginTarget, client: TestClient, o: LoginOptions = {}): Promise<URL> {
  return (await steps(target, client, { showPage: false, ...o })).callbackUrl;
}

async function steps(
  target: LoginTarget,
  client: TestClient,
  o: LoginOptions,
): Promise<{ authorizeUrl: URL; callbackUrl: URL }> {
  const authorizeUrl = await startLogin(target, client, o);
  if (o.showPage) await showSignInPage(client, authorizeUrl);
  return { authorizeUrl, callbackUrl: await submitSignIn(client, authorizeUrl, o.username) };
}

/**
 * Logs in through the real flow: /oauth2/login → the mock's authorize page (its form submitted as a browser
 * would) → /oauth2/callback. Returns the callback's response (a 302 to the target on success).
 */
export async function login(
  target: LoginTarget,
  client: TestClient,
  o: LoginOptions = {},
): Promise<{ callback: Response; authorizeUrl: URL }> {
  const { authorizeUrl, callbackUrl } = await steps(target, client, { showPage: true, ...o });
  return { callback: await client.get(callbackUrl, NAVIGATION), authorizeUrl };
}

/**
 * Logs a fresh browser in (see {@link login}); returns it and its session as a Cookie header
 * (`vestibule.session=…`). Throws unless the login ended with a session.
 */
export async function loggedIn(
  target: LoginTarget,
  o: LoginOptions = {},
): Promise<{ browser: TestClient; cookie: string }> {
  const browser = new TestClient();
  const { callback } = await login(target, browser, o);
  const session = browser.cookie('vestibule.session');
  if (callback.status !== 302 || session === undefined)
    throw new Error(`login ended without a session: ${callback.status} ${callback.body.slice(0, 300)}`);
  return { browser, cookie: `vestibule.session=${session}` };
}
