/**
 * The token API with a warm cache: `POST /api/v1/token` (client credentials) on vestibule's loopback token
 * listener, after one call has filled the cache, so the figures show vestibule's own cost, not Entra's.
 */
import { runLoad, type LoadResult, type LoadTool } from '../load.js';
import { median } from '../stats.js';

export interface TokenApiResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly errors: number;
  readonly connections: number;
}

export async function measureTokenApi(
  tokenApi: string,
  target: string,
  o: { connections: number; durationSec: number; runs: number; tool: LoadTool; scriptDir: string },
): Promise<TokenApiResult> {
  const url = `${tokenApi}/api/v1/token`;
  const body = JSON.stringify({ identity_provider: 'entra_id', target });
  const headers = { 'content-type': 'application/json' };
  const first = await fetch(url, { method: 'POST', headers, body });
  const text = await first.text();
  if (first.status !== 200) throw new Error(`token API: ${first.status} ${text}`);
  const runs: LoadResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    runs.push(
      await runLoad(
        o.tool,
        { url, method: 'POST', body, headers, connections: o.connections, durationSec: o.durationSec },
        o.scriptDir,
      ),
    );
  }
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    p999Ms: median(runs.map((r) => r.p999Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    connections: o.connections,
  };
}
