import type { FastifyRequest } from 'fastify';
import { VestibuleError } from '../errors/registry.js';
import { loginResponseKind } from '../request/navigation.js';
import { pathOf } from '../request/request-target.js';

/**
 * Login, callback and logout are interactive: a fetch/XHR to them (recognised by fetch metadata) gets a
 * 401 JSON instead of a redirect that would fail on CORS at the identity provider.
 */
export function rejectNonNavigation(request: FastifyRequest): void {
  const h = request.headers;
  if (h['sec-fetch-mode'] !== undefined && h['sec-fetch-dest'] !== undefined) {
    if (loginResponseKind(request.method === 'HEAD' ? 'GET' : request.method, h) !== 'redirect') {
      throw new VestibuleError('NOT_NAVIGATION', pathOf(request.url));
    }
  }
}
