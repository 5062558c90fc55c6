import type { Logger } from 'pino';
import { discoverProvider, type ProviderOptions, type IdentityProvider } from './provider.js';

/**
 * Discovery, retried with back-off for `retryMs`: at a cold start the network may not be up yet. With 0 the
 * first failure is final (tests, and a caller that retries itself).
 */
export async function discoverWithRetry(
  options: ProviderOptions,
  log: Logger,
  retryMs: number,
): Promise<IdentityProvider> {
  const deadline = Date.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await discoverProvider(options);
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      log.warn(
        { attempt, failure: { message: (err as Error).message } },
        'identity provider discovery failed; retrying',
      );
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
}
