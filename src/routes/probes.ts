import type { FastifyInstance } from 'fastify';
import type { SessionStore } from '../session/store.js';

export interface ReadinessDeps {
  /** Pinged for readiness; omitted where the listener's work does not need the store (the token API). */
  readonly store?: SessionStore;
  /** Readiness: false once shutdown has begun. */
  readonly isAccepting: () => boolean;
}

/** Why the process is not ready (503), or undefined when it is: draining, or the session store unreachable. */
export async function notReadyBecause(d: ReadinessDeps): Promise<string | undefined> {
  if (!d.isAccepting()) return 'shutting down';
  if (!d.store) return undefined;
  try {
    await d.store.ping();
  } catch {
    return 'session store unreachable';
  }
  return undefined;
}

/**
 * The probe listeners' routes, as Wonderwall's and Texas's probe servers answer them: `GET /` and
 * `GET /healthz` are 200 `ok` (naiserator's startupProbe asks /healthz; the listener starts only after the
 * listeners it vouches for are up), and `/readyz` is the readiness of the admin listener.
 */
export function probeRoutes(app: FastifyInstance, d: ReadinessDeps): void {
  app.get('/', (_request, reply) => reply.send('ok\n'));
  app.get('/healthz', (_request, reply) => reply.send('ok\n'));
  app.get('/readyz', async (_request, reply) => {
    const problem = await notReadyBecause(d);
    return problem ? reply.code(503).send(`not ready: ${problem}\n`) : 'ready\n';
  });
}
