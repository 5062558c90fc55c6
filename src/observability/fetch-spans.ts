import { pathWithoutQuery } from '../tracing/request-spans.js';
import type { Tracer } from '../tracing/tracer.js';
import { idpEndpoint } from './metrics.js';

/**
 * A fetch that records a client span per identity-provider call (discovery, JWKS, token endpoint), as a child of
 * whatever span is active (the callback, a refresh, a token API grant). Attributes: method, host, path without
 * query, the endpoint label and the status; never a header or a body (they carry codes, assertions and tokens).
 * `base` unchanged when tracing is off.
 */
export function traceFetch(tracer: Tracer, base: typeof fetch): typeof fetch {
  if (!tracer.enabled) return base;
  return (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const endpoint = idpEndpoint(url.href);
    return tracer.withSpan(
      `${method} idp ${endpoint}`,
      async (span) => {
        const res = await base(input, init);
        span.setAttribute('http.response.status_code', res.status);
        if (res.status >= 400) span.fail(`HTTP ${res.status}`);
        return res;
      },
      {
        kind: 'client',
        attributes: {
          'http.request.method': method,
          'server.address': url.hostname,
          'url.path': pathWithoutQuery(url.pathname),
          'vestibule.idp.endpoint': endpoint,
        },
      },
    );
  };
}
