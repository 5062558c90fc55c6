/**
 * `npm run bench:tracing`: what OpenTelemetry tracing costs vestibule. Target (d) (one session, a proxied GET)
 * on the same stack: tracing off (no OTEL_*: the SDK is never loaded), on with every request sampled (the
 * default parentbased_always_on) and on with 10 % sampled, exporting OTLP http/protobuf to a local sink that
 * decodes nothing and answers 200, and off again in a second instance to show the noise. Reports each one's idle
 * RSS after start-up and login, its req/s, p99 and CPU time per request at each connection count (runs
 * interleaved, each variant in turn, so machine noise falls on all alike), its peak RSS, the RSS at rest after
 * the load, and what the sink received.
 * Prints only; docs/operations.md (Tracing) quotes a run.
 *
 *   --duration S        seconds per run (default 10)
 *   --connections 16,64 (default 16,64)
 *   --runs N            runs per figure, the median is shown (default 3)
 *   --rest S            rest after the load before the at-rest RSS (default 45: V8's memory reducer)
 *   --tsx               run vestibule under tsx instead of the compiled build
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTargets, tsxTargets } from './build.js';
import { chooseTool } from './load.js';
import { measure } from './matrix.js';
import { processTree, treeResident } from './proc-stats.js';
import { stopAll, type Service } from './processes.js';
import { setUp } from './setup.js';
import { median } from './stats.js';
import type { BenchContext, Target } from './target.js';
import { loginVestibule, startVestibule } from './targets/vestibule.js';
import type { VestibulePorts } from './ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (line: string): void => void process.stderr.write(`bench:tracing: ${line}\n`);
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

/** A collector that keeps nothing: reads each export and answers an empty (successful) response. */
async function startSink(): Promise<{ url: string; exports: () => number; bytes: () => number; close(): void }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

interface Variant {
  readonly name: string;
  readonly ports: VestibulePorts;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The instances, on listeners the mock knows (those of (e), the refresh storm and the profile, unused here). A
 * second instance without tracing, measured last in each round, shows how far two identical instances differ
 * on this machine: a difference smaller than that is noise.
 */
function variants(ctx: BenchContext, sink: string): Variant[] {
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: sink, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  return [
    { name: 'off', ports: ctx.ports.vestibule, env: {} },
    { name: 'on, every request sampled', ports: ctx.ports.vestibuleProfile, env: otlp },
    {
      name: 'on, 10 % sampled',
      ports: ctx.ports.vestibuleStorm,
      env: { ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
    },
    { name: 'off again (a second instance: the noise)', ports: ctx.ports.vestibuleMany, env: {} },
  ];
}

interface Row {
  readonly rps: number;
  readonly p99: number;
  readonly peak: number;
  readonly cpu: number;
}

/** One variant: its target, its idle RSS, its runs by connection count. */
interface Measured {
  readonly variant: Variant;
  readonly target: Target;
  idle: number;
  rest: number;
  readonly runs: Map<number, Row[]>;
}

async function startVariant(ctx: BenchContext, v: Variant, i: number): Promise<Measured> {
  const started = await startVestibule(ctx, { name: `vestibule-tracing-${i}`, ports: v.ports, db: 0, env: v.env });
  const cookie = await loginVestibule(started.ingress);
  const target: Target = {
    id: 'd',
    label: `(d) tracing ${v.name}`,
    url: `${started.ingress}/`,
    headers: { cookie },
    pid: started.service.pid,
  };
  return { variant: v, target, idle: 0, rest: 0, runs: new Map() };
}

const rssOf = (t: Target): number => (t.pid === undefined ? 0 : treeResident(processTree(t.pid)).rss);

function render(all: readonly Measured[], o: { connections: readonly number[]; restSec: number }): string[] {
  const lines = [
    '| tracing | idle RSS | ' +
      o.connections.map((c) => `req/s @${c} | p99 ms @${c} | CPU µs/req @${c}`).join(' | ') +
      ` | peak RSS | RSS after ${o.restSec} s rest |`,
    '| --- | --- | ' + o.connections.map(() => '--- | --- | ---').join(' | ') + ' | --- | --- |',
  ];
  for (const m of all) {
    const cells = o.connections.map((c) => {
      const mine = m.runs.get(c) ?? [];
      const med = (f: (r: Row) => number): number => median(mine.map(f));
      // CPU time per request holds up better than req/s on a shared machine: a core taken away lowers both.
      const cpuPerRequest = med((r) => (r.rps > 0 ? (r.cpu / r.rps) * 1e6 : 0));
      return `${Math.round(med((r) => r.rps))} | ${med((r) => r.p99).toFixed(1)} | ${Math.round(cpuPerRequest)}`;
    });
    const peak = Math.max(...[...m.runs.values()].flat().map((r) => r.peak));
    lines.push(`| ${m.variant.name} | ${mb(m.idle)} MB | ${cells.join(' | ')} | ${mb(peak)} MB | ${mb(m.rest)} MB |`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      rest: { type: 'string' },
      tsx: { type: 'boolean' },
    },
  });
  const durationSec = Number(values.duration ?? '10');
  const connections = (values.connections ?? '16,64').split(',').map(Number);
  const runs = Number(values.runs ?? '3');
  const restSec = Number(values.rest ?? '45');
  const tmp = mkdtempSync(join(tmpdir(), 'vestibule-bench-tracing-'));
  const services: Service[] = [];
  const sink = await startSink();
  try {
    const tool = chooseTool();
    const node = values.tsx === true ? tsxTargets() : buildTargets(ROOT, tmp);
    log(`${node.vestibule.description}; load generator ${tool}`);
    const ctx = await setUp({ root: ROOT, tmp, smoke: false, node, services });
    const all: Measured[] = [];
    for (const [i, v] of variants(ctx, sink.url).entries()) all.push(await startVariant(ctx, v, i));
    // All idle side by side after start-up and one login, read after the same pause.
    await sleep(5000);
    for (const m of all) m.idle = rssOf(m.target);
    for (const m of all) {
      log(`warm-up ${m.target.label}`);
      await measure(m.target, connections[0] ?? 16, 3, tool, tmp);
    }
    // Interleaved: round by round, each variant in turn, so the machine's noise falls on all alike.
    for (let round = 1; round <= runs; round++) {
      for (const c of connections) {
        for (const m of all) {
          const { load, usage } = await measure(m.target, c, durationSec, tool, tmp);
          const row = { rps: load.rps, p99: load.p99Ms, peak: usage?.peakRss ?? 0, cpu: usage?.cpuCores ?? 0 };
          m.runs.set(c, [...(m.runs.get(c) ?? []), row]);
          log(`round ${round}/${runs} c=${c} ${m.target.label}: ${Math.round(load.rps)} req/s, ${load.errors} errors`);
        }
      }
    }
    log(`resting ${restSec} s`);
    await sleep(restSec * 1000);
    for (const m of all) m.rest = rssOf(m.target);
    const lines = [
      `vestibule (d), one session, proxied GET; ${node.vestibule.description}; ${tool}, ` +
        `${runs} run(s) of ${durationSec} s, medians`,
      '',
      ...render(all, { connections, restSec }),
      '',
      `sink: ${sink.exports()} exports, ${mb(sink.bytes())} MB of spans`,
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    sink.close();
    await stopAll(services);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:tracing: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
