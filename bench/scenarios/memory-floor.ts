/**
 * The memory floor of the stack: the RSS of a bare `node` with the image's flags, then with Fastify loaded, then
 * with every runtime dependency of vestibule loaded (and nothing started), each in its own process, read from
 * /proc after the same rest as vestibule's idle reading. vestibule's own idle RSS is read against these: what is
 * left above the last row is vestibule's code and state, the rest is the runtime's and the libraries'.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageEnvironment } from '../build.js';
import { median } from '../stats.js';
import { treeResident, type Resident } from '../proc-stats.js';

/** One step's median RSS and median file-backed part over its processes, bytes. */
export interface FloorStep extends Resident {
  readonly label: string;
}

/** When a floor process compacts its heap after loading, as vestibule does once its load has stopped (ms). */
const COMPACT_AFTER_MS = 10_000;

/** Where vestibule imports one module of a package instead of its index (see src/proxy/undici-pool.d.ts). */
const ENTRY_POINTS: Readonly<Record<string, string>> = { undici: 'undici/lib/dispatcher/pool.js' };

/**
 * The packages vestibule imports only when tracing is on (src/tracing/otel.ts): off, they are never loaded, so
 * they are not part of the floor. @opentelemetry/api stays: prom-client requires it whatever the settings.
 */
const ON_DEMAND = /^@opentelemetry\/(?!api$)|^@grpc\//;

/** The module lists of the steps: nothing, Fastify, all of package.json's `dependencies` as vestibule imports them. */
export function floorSteps(root: string): { label: string; modules: string[] }[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const deps = Object.keys(pkg.dependencies ?? {})
    .filter((d) => !ON_DEMAND.test(d))
    .sort()
    .map((d) => ENTRY_POINTS[d] ?? d);
  return [
    { label: 'node, nothing loaded', modules: [] },
    { label: 'node + fastify loaded', modules: ['fastify'] },
    { label: `node + all ${deps.length} runtime dependencies loaded`, modules: deps },
  ];
}

/** A node process with the modules of one step imported (and nothing else to do). */
export interface Loaded {
  readonly ready: Promise<void>;
  readonly pid: number | undefined;
  stop(): void;
}

/** `env` is set on top of the bench's own environment (vestibule's allocator, from the image's ENV). */
export function startLoaded(
  root: string,
  flags: readonly string[],
  modules: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Loaded {
  // Kept alive by its stdin, and gone with it: a bench stopped by a signal leaves no floor process behind. 10 s
  // after loading it makes the one compacting collection vestibule makes 10 s after its load
  // (src/observability/idle-compaction.ts), so the floor holds no start-up garbage vestibule has given back.
  const compact = `setTimeout(async () => { (await import('node:v8')).setFlagsFromString('--expose-gc'); const gc = (await import('node:vm')).runInNewContext('typeof gc === "function" ? gc : undefined'); gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' }); }, ${COMPACT_AFTER_MS});`;
  const script = `for (const m of ${JSON.stringify(modules)}) await import(m); ${compact} process.stdin.on('end', () => process.exit(0)).resume(); process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + String(c)).slice(-2000);
  });
  const what = modules.length === 0 ? 'nothing' : modules.join(', ');
  let timer: NodeJS.Timeout | undefined;
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
    timer = setTimeout(() => reject(new Error(`loading ${what} took over 30 s`)), 30_000);
  }).finally(() => clearTimeout(timer));
  ready.catch(() => undefined); // awaited by the caller; never an unhandled rejection meanwhile
  return { ready, pid: child.pid, stop: () => child.kill('SIGKILL') };
}

/**
 * Starts every step's processes at once (`runs` of each), waits until all have loaded, lets them rest
 * `settleMs` and reads their RSS. Run beside vestibule's own rest, so both are read after the same quiet time:
 * V8 gives the young generation back only some seconds after the allocations stop (its memory reducer).
 * `env` is the environment vestibule got from the image (its allocator: jemalloc or glibc's malloc changes the
 * floor too); when not given, the Dockerfile's, as bench/build.ts applies it to vestibule.
 */
export async function measureMemoryFloor(
  root: string,
  flags: readonly string[],
  o: { runs: number; settleMs: number; env?: Readonly<Record<string, string>> },
): Promise<FloorStep[]> {
  const env = o.env ?? imageEnvironment(root).env;
  const steps = floorSteps(root).map((step) => ({
    label: step.label,
    processes: Array.from({ length: o.runs }, () => startLoaded(root, flags, step.modules, env)),
  }));
  const all = steps.flatMap((s) => s.processes);
  try {
    await Promise.all(all.map((p) => p.ready));
    await sleep(o.settleMs);
    return steps.map((step) => {
      const read = step.processes.map((p) => {
        if (p.pid === undefined) throw new Error('no pid');
        return treeResident([p.pid]);
      });
      return { label: step.label, rss: median(read.map((r) => r.rss)), file: median(read.map((r) => r.file)) };
    });
  } finally {
    for (const p of all) p.stop();
  }
}
