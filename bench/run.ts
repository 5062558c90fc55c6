/**
 * `npm run bench`: vestibule's reproducible benchmark (issue 7). Starts everything on 127.0.0.1 itself, loads
 * each target from a separate process, prints one table and (full run) rewrites the marked section of
 * docs/benchmarks.md. Progress goes to stderr, the table to stdout. See `--help` and docs/benchmarks.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTargets, tsxTargets } from './build.js';
import { commitOf, describeEnvironment, loadAverage } from './environment.js';
import { writeMarkedSection } from './doc-section.js';
import { chooseTool, type LoadTool } from './load.js';
import { plannedMatrixSec, RUN_OVERHEAD_SEC, runMatrix, type Sample } from './matrix.js';
import { clock, Progress } from './progress.js';
import { renderChart } from './chart.js';
import { HELP, parseOptions, type BenchOptions } from './options.js';
import { ingressOf } from './ports.js';
import { processTree, treeResident, type Resident } from './proc-stats.js';
import { formatProfile } from './profile.js';
import { stopAll, type Service } from './processes.js';
import { renderMarkdown, renderText, type BenchReport } from './report.js';
import {
  measureLogins,
  modAuthOpenidcLogin,
  vestibuleLogin,
  type LoginThroughput,
} from './scenarios/login-throughput.js';
import { measureMemoryFloor } from './scenarios/memory-floor.js';
import { profileVestibule, type ProfileResult } from './scenarios/profile-run.js';
import { refreshStorm, type RefreshStorm } from './scenarios/refresh-storm.js';
import { measureTokenApi, type TokenApiResult } from './scenarios/token-api.js';
import { setUp } from './setup.js';
import { isSkipped, type BenchContext, type Target, type TargetId, type TargetStart } from './target.js';
import { fastifyProxy } from './targets/fastify-proxy.js';
import { modAuthOpenidc } from './targets/mod-auth-openidc.js';
import { nginxProxy } from './targets/nginx.js';
import { upstreamDirect } from './targets/upstream-direct.js';
import { rotatingLabel, vestibuleManySessions } from './targets/vestibule-many-sessions.js';
import { vestibuleTarget } from './targets/vestibule.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where a full run that writes the doc puts its chart (the doc embeds it from beside itself). */
const CHART_IN_DOCS = 'docs/benchmarks.svg';
/** The progress line of a measuring run (messages go above it); undefined before and after one. */
let progress: Progress | undefined;
const log = (line: string): void => {
  if (progress) progress.log(line);
  else process.stderr.write(`bench: ${line}\n`);
};

/** Seconds the login loops run: vestibule's and, when (f) runs, mod_auth_openidc's. */
const loginSec = (o: BenchOptions): number => (o.smoke ? 2 : 10);
/** Seconds the rest before the idle reading takes at least. */
const restSecOf = (o: BenchOptions): number => (o.smoke ? 0.3 : 45);

/** The planned seconds of a whole run, for the estimate of what is left (load, warm-ups, rest, extras, start-up). */
function plannedSec(o: BenchOptions): number {
  const n = o.targets.length;
  const seeding = o.targets.some((t) => t === 'e' || t === 'g') ? o.sessions / 7000 : 0;
  const starting = 3 * n + seeding;
  const matrix = plannedMatrixSec(n, o);
  const haveD = o.targets.includes('d');
  const extras =
    (haveD ? o.runs * (o.durationSec + RUN_OVERHEAD_SEC) + loginSec(o) : 0) +
    (haveD && o.targets.includes('f') ? loginSec(o) : 0) +
    5 +
    (o.profile ? Math.max(o.durationSec, 5) + 8 : 0);
  return starting + matrix + restSecOf(o) + extras;
}

async function startOne(ctx: BenchContext, id: Exclude<TargetId, 'e' | 'g'>): Promise<TargetStart> {
  switch (id) {
    case 'a':
      return upstreamDirect(ctx);
    case 'b':
      return fastifyProxy(ctx);
    case 'c':
      return nginxProxy(ctx);
    case 'd':
      return vestibuleTarget(ctx);
    case 'f':
      return modAuthOpenidc(ctx);
  }
}

/** Starts the chosen targets in order; (e) and (g) share one vestibule and one seeded Redis database. */
async function startTargets(ctx: BenchContext, o: BenchOptions, tool: LoadTool): Promise<TargetStart[]> {
  const out: TargetStart[] = [];
  let many: { e?: Target; g?: Target } | undefined;
  for (const id of o.targets) {
    progress?.step(`starting target (${id})`, id === 'e' || id === 'g' ? 3 + o.sessions / 7000 : 3);
    if (id === 'g' && tool !== 'wrk') {
      const reason = 'needs wrk to send a different cookie with each request (apt-get install -y wrk)';
      out.push({ id, label: rotatingLabel(o.sessions), reason });
    } else if (id === 'e' || id === 'g') {
      many ??= await vestibuleManySessions(ctx, o.sessions, {
        e: o.targets.includes('e'),
        g: o.targets.includes('g') && tool === 'wrk',
      });
      const started = many[id];
      if (started) out.push(started);
    } else {
      out.push(await startOne(ctx, id));
    }
  }
  return out;
}

interface Extras {
  tokenApi?: TokenApiResult;
  logins?: LoginThroughput;
  loginsModAuthOpenidc?: LoginThroughput;
  storm?: RefreshStorm;
  profile?: ProfileResult;
  problems: string[];
}

/** Login throughput, refresh storm, token API and the optional profile; a failure is reported, not fatal. */
async function runExtras(
  ctx: BenchContext,
  o: BenchOptions,
  tool: LoadTool,
  targets: readonly Target[],
): Promise<Extras> {
  const haveD = targets.some((t) => t.id === 'd');
  const out: Extras = { problems: [] };
  const attempt = async (what: string, plannedSec: number, fn: () => Promise<void>): Promise<void> => {
    progress?.step(what, plannedSec);
    try {
      await fn();
    } catch (err) {
      out.problems.push(`${what}: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
  };
  if (haveD) {
    await attempt('token API with a warm cache', o.runs * (o.durationSec + RUN_OVERHEAD_SEC), async () => {
      out.tokenApi = await measureTokenApi(`http://127.0.0.1:${ctx.ports.vestibule.token}`, ctx.identity.apiTarget, {
        connections: o.smoke ? 8 : 64,
        durationSec: o.durationSec,
        runs: o.runs,
        tool,
        scriptDir: ctx.tmp,
      });
    });
    await attempt('login throughput, vestibule', loginSec(o), async () => {
      out.logins = await measureLogins(vestibuleLogin(ingressOf(ctx.ports.vestibule)), o.smoke ? 4 : 16, loginSec(o));
    });
    const f = targets.find((t) => t.id === 'f');
    if (f) {
      await attempt('login throughput, mod_auth_openidc', loginSec(o), async () => {
        const base = new URL(f.url).origin;
        out.loginsModAuthOpenidc = await measureLogins(modAuthOpenidcLogin(base), o.smoke ? 4 : 16, loginSec(o));
      });
    }
  }
  await attempt('refresh storm', 5, async () => {
    out.storm = await refreshStorm(ctx, o.smoke ? 200 : 1000);
  });
  if (o.profile) {
    const g = targets.find((t) => t.id === 'g');
    if (o.profileTarget === 'g' && !g) out.problems.push('--profile-target g: (g) did not run (needs wrk)');
    const what = `CPU profile of vestibule under load like (${o.profileTarget})`;
    await attempt(what, Math.max(o.durationSec, 5) + 8, async () => {
      out.profile = await profileVestibule(ctx, {
        rotating: o.profileTarget === 'g' ? g : undefined,
        connections: 64,
        durationSec: Math.max(o.durationSec, 5),
        tool,
        out: o.profileOut,
      });
    });
  }
  return out;
}

async function benchmark(o: BenchOptions, tmp: string, services: Service[]): Promise<BenchReport> {
  const loadAtStart = loadAverage();
  const tool = chooseTool(o.tool);
  log(`load average ${loadAtStart}; load generator ${tool}; temp dir ${tmp}`);
  if (o.compiled) log('compiling vestibule with tsc');
  const node = o.compiled ? buildTargets(ROOT, tmp, o.nodeFlags) : tsxTargets(o.nodeFlags);
  const ctx = await setUp({ root: ROOT, tmp, smoke: o.smoke, node, services });
  const started = await startTargets(ctx, o, tool);
  const targets = started.filter((t): t is Target => !isSkipped(t));
  for (const t of started.filter(isSkipped)) log(`${t.label} skipped: ${t.reason}`);
  // The estimate planned every asked-for target; one skipped (no Apache, no wrk) runs no matrix.
  progress?.replan(plannedMatrixSec(targets.length, o) - plannedMatrixSec(started.length, o));
  const d = targets.find((t) => t.id === 'd');
  const residentOf = (t: Target | undefined): Resident | undefined =>
    t?.pid === undefined ? undefined : treeResident(processTree(t.pid));
  const idleFresh = residentOf(d);

  const samples: Sample[] = await runMatrix(targets, {
    connections: o.connections,
    runs: o.runs,
    durationSec: o.durationSec,
    warmupSec: o.warmupSec,
    tool,
    scriptDir: tmp,
    log,
    step: (label, sec) => progress?.step(label, sec),
  });
  // At rest: what a replica holds between bursts once it has served load. V8 gives memory back only when its
  // memory reducer runs, which on this stack was 20-40 s after the allocations stopped (a floor process read at
  // 20 s held 59 MB in one run and 80 MB in another, as the reducer had run or not). So the full run rests 45 s.
  // The stack's floor, with vestibule's own node flags, rests as long beside it (after its libraries loaded), so
  // the two are read alike; the rest reported is the one vestibule had.
  const minRestSec = restSecOf(o);
  progress?.step(`memory floor of the stack, and vestibule at rest (${minRestSec} s or more)`, minRestSec);
  const restFrom = Date.now();
  const [floor] = await Promise.allSettled([
    measureMemoryFloor(ROOT, node.nodeFlags, { runs: o.smoke ? 1 : 3, settleMs: minRestSec * 1000, env: node.nodeEnv }),
    sleep(minRestSec * 1000),
  ]);
  const idleAfter = residentOf(d);
  const restSec = Math.round((Date.now() - restFrom) / 100) / 10;
  const extras = await runExtras(ctx, o, tool, targets);
  if (floor.status === 'rejected') {
    extras.problems.push(`memory floor of the stack: ${(floor.reason as Error).message.split('\n')[0] ?? ''}`);
  }
  return {
    mode: o.smoke ? 'smoke' : 'full',
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    commit: commitOf(ROOT),
    environment: describeEnvironment({
      root: ROOT,
      options: o,
      tool,
      vestibuleBuild: node.vestibule.description,
      loadAtStart,
    }),
    targets: started,
    samples,
    idleAfter,
    restSec,
    idleFresh,
    ...extras,
    floor: floor.status === 'fulfilled' ? floor.value : undefined,
  };
}

/** The report as JSON without the session cookies the targets were loaded with. */
function toJson(report: BenchReport): string {
  const targets = report.targets.map((t) => (isSkipped(t) ? t : { ...t, headers: {}, rotatingCookies: undefined }));
  return JSON.stringify({ ...report, targets }, null, 1);
}

async function measureAll(o: BenchOptions): Promise<BenchReport> {
  const tmp = mkdtempSync(join(tmpdir(), 'vestibule-bench-'));
  const services: Service[] = [];
  const cleanUp = async (): Promise<void> => {
    await stopAll(services);
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  progress = new Progress(plannedSec(o));
  try {
    return await benchmark(o, tmp, services);
  } finally {
    progress.step('stopping every process', 2);
    await cleanUp();
    progress.end();
    log(`measured in ${clock(progress.elapsedSec())}`);
    progress = undefined;
  }
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const report = o.from === undefined ? await measureAll(o) : (JSON.parse(readFileSync(o.from, 'utf8')) as BenchReport);
  if (o.save !== undefined) writeFileSync(o.save, toJson(report));
  process.stdout.write(`\n${renderText(report)}`);
  const p = report.profile;
  if (p) {
    const kept = p.file === undefined ? '' : `, kept in ${p.file}`;
    process.stdout.write(
      `\nCPU profile of vestibule (${p.target ?? 'd'}) at ${p.connections} connections, ${Math.round(p.rps)} req/s under the ` +
        `profiler${kept}\n\n${formatProfile(p.summary)}\n`,
    );
    if (p.drainTimedOut === true) {
      process.stdout.write(
        '\nnote: the profiled vestibule drained until its shutdown timeout after SIGTERM, with the load stopped; ' +
          'its idle share includes that wait\n',
      );
    }
  }
  const docWrite = o.write && report.mode === 'full';
  const chartFile = o.chart ?? (docWrite ? join(ROOT, CHART_IN_DOCS) : undefined);
  if (chartFile !== undefined) {
    writeFileSync(chartFile, renderChart(report));
    log(`chart written to ${chartFile}`);
  }
  if (docWrite) {
    await writeMarkedSection(join(ROOT, 'docs/benchmarks.md'), renderMarkdown(report, { chart: 'benchmarks.svg' }));
    log('docs/benchmarks.md updated');
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
