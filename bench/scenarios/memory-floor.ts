/**
 * The memory floor of the stack: the RSS of a bare `node` with the image's flags, then with Fastify loaded, then
 * with every runtime dependency of vestibule loaded (and nothing started), each in its own process, read from
 * /proc once it has settled. vestibule's own idle RSS is read against these: what is left above the last row
 * is vestibule's code and state, the rest is the runtime's and the libraries'.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from '../stats.js';
import { treeRss } from '../proc-stats.js';

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
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + String(c)).slice(-2000);
  });
  const what = modules.length === 0 ? 'nothing' : modules.join(', ');
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (String(c).includes('ready')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(
        new Error(`node exited (${String(code)}) loading ${what}: ${stderr.trim().split('\n').slice(-3).join(' ')}`),
      );
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`loading ${what} took over 30 s`)), 30_000);
  });
  try {
    await Promise.race([ready, timeout]);
    await sleep(settleMs);
    if (child.pid === undefined) throw new Error('no pid');
    return treeRss([child.pid]);
  } finally {
    clearTimeout(timer);
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
