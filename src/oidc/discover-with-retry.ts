import type { Logger } from 'pino';
import { DiscoveryError, discoverProvider, type ProviderOptions, type IdentityProvider } from './provider.js';

/**
 * Discovery, retried with back-off for `retryMs`: at a cold start the network may not be up yet. Only what
 * waiting can heal is retried (5xx, timeouts, DNS and connection errors); a 4xx or an answer that is not a
 * discovery document fails at once. With 0 the first failure is final (tests, and a caller that retries itself).
 * One warning names the cause and how long it is retried; a repeat of the same cause is logged at debug.
 */
export async function discoverWithRetry(
  options: ProviderOptions,
  log: Logger,
  retryMs: number,
): Promise<IdentityProvider> {
  const started = Date.now();
  const deadline = started + retryMs;
  let lastCause: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const provider = await discoverProvider(options);
      if (attempt > 1) log.info({ attempt }, 'identity provider discovery succeeded');
      return provider;
    } catch (err) {
      // Anything but a retryable DiscoveryError is a setting (a bad key, a multi-tenant URL): waiting cannot heal it.
      const retryable = err instanceof DiscoveryError && err.retryable;
      const cause = err instanceof DiscoveryError ? (err.detail ?? err.message) : (err as Error).message;
      if (!retryable) throw err;
      if (Date.now() >= deadline) {
        if (attempt === 1) throw err;
        const seconds = Math.round((Date.now() - started) / 1000);
        throw new DiscoveryError(
          'IDP_UNAVAILABLE',
          `${cause} (gave up after ${attempt} attempts over ${seconds} s)`,
          true,
          {
            cause: err,
          },
        );
      }
      if (cause !== lastCause) {
        log.warn(
          { attempt, failure: { message: cause } },
          `identity provider discovery failed: ${cause}; retrying for up to ${formatSeconds(retryMs)}`,
        );
        lastCause = cause;
      } else {
        log.debug({ attempt, failure: { message: cause } }, 'identity provider discovery failed again; retrying');
      }
      const wait = Math.min(1000 * attempt, 5000, Math.max(0, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
