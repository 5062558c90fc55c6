import type { FastifyServerOptions } from 'fastify';

function refuse(): never {
  throw new Error(
    'vestibule declares no JSON schemas on its routes: it checks its inputs in code (see src/config and the route handlers)',
  );
}

/**
 * Fastify's schema compilers, replaced by ones that refuse. Left to their defaults, every Fastify instance
 * loads Ajv (with its JTD build and formats) and fast-json-stringify when it is made, schemas or not: ~1.3 MB
 * of heap that stays for the life of the process (measured with Node 24; see docs/benchmarks.md, "Memory").
 * vestibule has no route schemas, so these are never called; a route that declares one fails at `ready()`
 * with the message above instead of loading them back.
 */
export const NO_SCHEMA_COMPILERS: Pick<FastifyServerOptions, 'schemaController'> = {
  schemaController: {
    compilersFactory: {
      buildValidator: () => refuse,
      buildSerializer: () => refuse,
    },
  },
};
