import type { FastifyRequest } from 'fastify';
import { matchIngress, type Ingress } from '../config/ingress.js';
import { pathOf } from './request-target.js';

/** The ingress (origin and path) a request came in through, by its Host and path. */
export function ingressOf(request: FastifyRequest, ingresses: readonly Ingress[]): Ingress {
  return matchIngress(ingresses, request.headers.host, pathOf(request.url));
}

/** A single-valued query parameter: undefined when absent, and also when duplicated (ambiguous input). */
export function single(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
}
