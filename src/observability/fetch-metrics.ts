import { idpEndpoint, type Metrics } from './metrics.js';

/** A fetch that records identity-provider latency and failures by endpoint. */
export function instrumentFetch(metrics: Metrics, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = idpEndpoint(url);
    const end = metrics.idpDuration.startTimer({ endpoint });
    try {
      const res = await base(input, init);
      if (res.status >= 500) metrics.idpErrors.inc({ endpoint });
      return res;
    } catch (err) {
      metrics.idpErrors.inc({ endpoint });
      throw err;
    } finally {
      end();
    }
  };
}
