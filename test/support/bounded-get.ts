import { request } from 'node:http';

/** An answer to {@link boundedGet}, with how long it took. */
export interface BoundedAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly ms: number;
}

/**
 * A GET that rejects with "hung" when no complete answer arrived within `limitMs`: fault tests assert that
 * vestibule answers within its configured timeouts instead of leaving the browser waiting. A fresh
 * connection per call (no agent), so a hung request never holds a pooled socket for the next one.
 */
export function boundedGet(url: string, headers: Record<string, string>, limitMs: number): Promise<BoundedAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          ms: Date.now() - started,
        });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`hung: no answer from ${url} within ${limitMs} ms`));
    }, limitMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
