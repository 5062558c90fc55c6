/**
 * A private redis-server for the benchmark on a free loopback port, without persistence: never the machine's
 * shared instance. vestibule (d) uses database 0, (e) and (g) database 1, the refresh storm 2, the profile 3;
 * mod_auth_openidc shares database 0 with (d) (its keys have their own prefix).
 */
import { startService, waitForPort, type Service } from './processes.js';

export interface BenchRedis {
  readonly service: Service;
  readonly port: number;
  /** `redis://127.0.0.1:<port>/<db>` */
  url(db: number): string;
}

/** Starts redis-server; `track` receives the process at once, so it is stopped even if the start fails. */
export async function startBenchRedis(port: number, tmp: string, track: (s: Service) => Service): Promise<BenchRedis> {
  const service = track(
    startService({
      name: 'redis',
      command: 'redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp],
      logDir: tmp,
    }),
  );
  await waitForPort(service, port, 15_000);
  return { service, port, url: (db) => `redis://127.0.0.1:${port}/${db}` };
}
