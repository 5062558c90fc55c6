import type { Response } from './http-client.js';
import type { RawResponse } from './raw-http.js';

/** What the test upstream's `/echo*` route saw of a proxied request. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | undefined>;
}

/**
 * The upstream's view of a request answered by `/echo*`, or undefined when the answer did not come from the
 * echo route (vestibule answered itself, or an error).
 */
export function echoOf(res: Response | RawResponse): Echo | undefined {
  if (res.status !== 200) return undefined;
  try {
    const parsed = JSON.parse(res.body) as { url?: unknown; headers?: unknown };
    return typeof parsed.url === 'string' && typeof parsed.headers === 'object' && parsed.headers !== null
      ? (parsed as Echo)
      : undefined;
  } catch {
    return undefined;
  }
}
