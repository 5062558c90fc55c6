import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { NO_SCHEMA_COMPILERS } from '../request/no-schemas.js';
import { adminRoutes, type AdminDeps } from '../routes/admin.js';

/** The admin listener (probes, metrics, operator calls): its own instance, so the public port never serves them. */
export function buildAdminServer(logger: FastifyBaseLogger, deps: AdminDeps): FastifyInstance {
  const admin = Fastify({
    ...NO_SCHEMA_COMPILERS,
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  adminRoutes(admin, deps);
  return admin;
}
