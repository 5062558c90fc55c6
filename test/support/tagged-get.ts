import { randomUUID } from 'node:crypto';
import type { Harness } from './harness.js';
import { rawGet, sendRaw } from './raw-http.js';
import type { SeenRequest } from './upstream.js';

/**
 * Sends a raw GET (the target byte for byte, no client-side normalisation) tagged with a fresh `X-Probe` id, and
 * returns the status and what the test upstream saw of this very request, if it reached the app at all.
 */
export async function taggedGet(
  h: Pick<Harness, 'origin' | 'ingress' | 'upstream'>,
  target: string,
  headers: readonly (readonly [string, string])[] = [],
): Promise<{ status: number | undefined; seen: SeenRequest | undefined }> {
  const id = randomUUID();
  const res = await sendRaw(
    Number(new URL(h.origin).port),
    rawGet(target, [['X-Probe', id], ...headers], new URL(h.ingress).host),
  );
  return { status: res.status, seen: h.upstream.seen.find((s) => s.headers['x-probe'] === id) };
}
