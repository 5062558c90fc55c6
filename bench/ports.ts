/**
 * Every loopback port of one benchmark run, chosen before anything starts: the mock Entra ID must know the
 * redirect URIs of vestibule and mod_auth_openidc when it is configured.
 */
import { freePort } from '../test/support/free-port.js';

/** vestibule's three listeners. */
export interface VestibulePorts {
  readonly public: number;
  readonly admin: number;
  readonly token: number;
}

export interface BenchPorts {
  readonly upstream: number;
  readonly redis: number;
  readonly mock: number;
  readonly fastify: number;
  readonly nginx: number;
  readonly apache: number;
  /** (d): one session in Redis. */
  readonly vestibule: VestibulePorts;
  /** (e): 100 000 sessions in Redis. */
  readonly vestibuleMany: VestibulePorts;
  /** (g): the same database as (e), a different session per request. */
  readonly vestibuleCold: VestibulePorts;
  /** The refresh storm's own instance (cool-down off). */
  readonly vestibuleStorm: VestibulePorts;
  /** The profiled instance (`--profile`). */
  readonly vestibuleProfile: VestibulePorts;
}

/** Distinct free ports (a port released by one probe can be handed out again, so duplicates are retried). */
async function distinctPorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

export async function allocatePorts(): Promise<BenchPorts> {
  const p = await distinctPorts(21);
  const at = (i: number): number => p[i] ?? 0;
  const trio = (i: number): VestibulePorts => ({ public: at(i), admin: at(i + 1), token: at(i + 2) });
  return {
    upstream: at(0),
    redis: at(1),
    mock: at(2),
    fastify: at(3),
    nginx: at(4),
    apache: at(5),
    vestibule: trio(6),
    vestibuleMany: trio(9),
    vestibuleStorm: trio(12),
    vestibuleProfile: trio(15),
    vestibuleCold: trio(18),
  };
}

/** The ingress (public base URL) of a vestibule listening on `ports`. */
export function ingressOf(ports: VestibulePorts): string {
  return `http://127.0.0.1:${ports.public}`;
}
