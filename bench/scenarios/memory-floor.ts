/**
 * The memory floor of the stack: the RSS of a bare `node` with the image's flags, then with Fastify loaded, then
 * with every runtime dependency of vestibule loaded (and nothing started), each in its own process, read from
 * /proc once it has settled. vestibule's own idle RSS is read against these: what is left above the last row
 * is vestibule's code and state, the rest is the runtime's and the libraries'.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from '../stats.js';
import { parseRssBytes } from '../proc-stats.js';

export interface FloorStep {
  readonly label: string;
  /** Median RSS over the runs, bytes. */
  readonly rss: number;
}

/** The module lists of the steps: nothing, Fastify, all of package.json's `dependencies`. */
export function floorSteps(root: string): { label: string; modules: string[] }[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const deps = Object.keys(pkg.dependencies ?? {}).sort();
  return [
    { label: 'node, nothing loaded', modules: [] },
    { label: 'node + fastify loaded', modules: ['fastify'] },
    { label: `node + all ${deps.length} runtime dependencies loaded`, modules: deps },
  ];
}

/** Starts node with the modules imported, waits `settleMs` after they loaded, reads its RSS, stops it. */
async function rssWith(
  root: string,
  flags: readonly string[],
  modules: readonly string[],
  settleMs: number,
): Promise<number> {
  const script = `for (const m of ${JSON.stringify(modules)}) await import(m); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [chunk] = (await Promise.race([
      once(child.stdout, 'data'),
      sleep(30_000).then(() => {
        throw new Error(`loading ${modules.join(', ') || 'nothing'} took over 30 s`);
      }),
    ])) as [Buffer];
    if (!String(chunk).includes('ready')) throw new Error(`unexpected output: ${String(chunk)}`);
    await sleep(settleMs);
    if (child.pid === undefined) throw new Error('no pid');
    return parseRssBytes(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  } finally {
    child.kill('SIGKILL');
  }
}

export async function measureMemoryFloor(
  root: string,
  flags: readonly string[],
  o: { runs: number; settleMs: number },
): Promise<FloorStep[]> {
  const out: FloorStep[] = [];
  for (const step of floorSteps(root)) {
    const samples: number[] = [];
    for (let i = 0; i < o.runs; i++) samples.push(await rssWith(root, flags, step.modules, o.settleMs));
    out.push({ label: step.label, rss: median(samples) });
  }
  return out;
}
