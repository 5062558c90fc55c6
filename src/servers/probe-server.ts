import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { NO_SCHEMA_COMPILERS } from '../request/no-schemas.js';
import { probeRoutes, type ReadinessDeps } from '../routes/probes.js';

/**
 * A probe listener (Wonderwall's on 7566, Texas's on 7165 on NAIS): its own small instance, so the kubelet
 * reaches the probes on a port of their own and never the proxy or the token API.
 */
export function buildProbeServer(logger: FastifyBaseLogger, deps: ReadinessDeps): FastifyInstance {
  const probe = Fastify({
    ...NO_SCHEMA_COMPILERS,
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  probeRoutes(probe, deps);
  return probe;
}
