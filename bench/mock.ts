/**
 * The mock Entra ID as its own process (`mock-entra/main.ts`), so signing tokens never competes with the
 * orchestrator's event loop, and a thin client for its `/_mock/*` control API.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MockClient } from '../mock-entra/types.js';
import { startService, waitForHttp, type Service } from './processes.js';

/** The tenant the benchmark's mock serves (the mock's default, spelled out so URLs can be built before start). */
export const BENCH_TENANT = '7f3c2b1a-0d4e-4c5b-9a8f-1e2d3c4b5a69';

/** A running mock and its control API. */
export interface MockEntraProcess {
  readonly service: Service;
  readonly url: string;
  readonly issuer: string;
  readonly wellKnownUrl: string;
  /** Token requests so far, by grant type (`/_mock/stats`). */
  grants(): Promise<Record<string, number>>;
  /** Access and ID token lifetimes in seconds for tokens issued from now on. */
  setLifetimes(l: { accessToken?: number; idToken?: number }): Promise<void>;
}

export interface MockStart {
  readonly port: number;
  readonly clients: readonly MockClient[];
  readonly root: string;
  readonly tmp: string;
  /** Receives the process at once, so it is stopped even if the start fails. */
  readonly track: (s: Service) => Service;
}

/** Starts the mock on 127.0.0.1:`port` with the given app registrations; resolves when discovery answers. */
export async function startMock(o: MockStart): Promise<MockEntraProcess> {
  const config = join(o.tmp, 'mock-entra.json');
  writeFileSync(
    config,
    JSON.stringify({ host: '127.0.0.1', port: o.port, tenantId: BENCH_TENANT, clients: o.clients }),
  );
  const service = o.track(
    startService({
      name: 'mock-entra',
      command: process.execPath,
      args: ['--import', 'tsx', 'mock-entra/main.ts', '--config', config],
      cwd: o.root,
      logDir: o.tmp,
    }),
  );
  const url = `http://127.0.0.1:${o.port}`;
  const issuer = `${url}/${BENCH_TENANT}/v2.0`;
  const wellKnownUrl = `${issuer}/.well-known/openid-configuration`;
  await waitForHttp(service, wellKnownUrl, 30_000, 200);
  return {
    service,
    url,
    issuer,
    wellKnownUrl,
    grants: async () => {
      const res = await fetch(`${url}/_mock/stats`);
      if (!res.ok) throw new Error(`mock stats: ${res.status}`);
      return ((await res.json()) as { grants: Record<string, number> }).grants;
    },
    setLifetimes: async (l) => {
      const res = await fetch(`${url}/_mock/lifetimes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(l),
      });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`mock lifetimes: ${res.status}`);
    },
  };
}
