import { request as httpRequest, type IncomingMessage } from 'node:http';

/** Fetch metadata a browser sends on a top-level navigation. */
export const NAVIGATION = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' };

/**
 * A tiny browser-like HTTP client for integration tests: a cookie jar that honours Path, Max-Age=0 and
 * expiry clearing, and no automatic redirects, so every hop of a login can be asserted.
 */
export interface Response {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly location: string | undefined;
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  origin: string;
}

export class TestClient {
  readonly #jar: StoredCookie[] = [];
  /** Headers sent with every request (e.g. fetch metadata of a navigation). */
  defaultHeaders: Record<string, string> = {};

  cookies(origin?: string): { name: string; value: string; path: string }[] {
    return this.#jar
      .filter((c) => origin === undefined || c.origin === origin)
      .map(({ name, value, path }) => ({ name, value, path }));
  }

  cookie(name: string): string | undefined {
    return this.#jar.find((c) => c.name === name)?.value;
  }

  setCookie(origin: string, name: string, value: string, path = '/'): void {
    this.#remove(origin, name, path);
    this.#jar.push({ origin, name, value, path });
  }

  clearCookies(): void {
    this.#jar.length = 0;
  }

  cookieHeader(url: URL): string | undefined {
    const send = this.#jar.filter(
      (c) =>
        c.origin === url.origin &&
        (url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/') ||
          c.path === '/'),
    );
    return send.length ? send.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  async request(
    url: string | URL,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...this.defaultHeaders, ...init.headers };
    const cookie = this.cookieHeader(u);
    if (cookie && headers.cookie === undefined) headers.cookie = cookie;
    // node:http, not fetch: fetch forces its own Sec-Fetch-* headers, and tests must send a browser's.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(u, { method: init.method ?? 'GET', headers }, resolve);
      req.on('error', reject);
      req.end(init.body);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      for (const item of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.append(k, item);
    }
    for (const line of out.getSetCookie()) this.#store(u, line);
    const location = out.get('location') ?? undefined;
    return {
      status: res.statusCode ?? 0,
      headers: out,
      body: Buffer.concat(chunks).toString(),
      location: location ? new URL(location, u).href : undefined,
    };
  }

  get(url: string | URL, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, { headers });
  }

  #remove(origin: string, name: string, path: string): void {
    const i = this.#jar.findIndex((c) => c.origin === origin && c.name === name && c.path === path);
    if (i !== -1) this.#jar.splice(i, 1);
  }

  #store(u: URL, line: string): void {
    const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = false;
    for (const a of attrs) {
      const [k = '', v = ''] = a.split('=');
      if (k.toLowerCase() === 'path') path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
    }
    this.#remove(u.origin, name, path);
    if (!expired) this.#jar.push({ origin: u.origin, name, value, path });
  }
}
