/**
 * The load generator, always in its own process (in-process load skews results badly, ecosystem.md §6): `wrk`
 * when installed (C, one thread, leaves the most CPU to the targets), else the `autocannon` CLI from
 * node_modules. Both report the same figures: requests/s, p50/p99/p99.9 latency and errors.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { which } from './processes.js';

export type LoadTool = 'wrk' | 'autocannon';

/** One load run against one URL. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly durationSec: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  /** Exactly this many requests, one per connection (autocannon only: the refresh storm). */
  readonly amount?: number;
  /** Cookie header values sent in turn, one per request (wrk only). */
  readonly rotatingCookies?: readonly string[];
}

/** What one load run measured. Latencies in milliseconds. */
export interface LoadResult {
  readonly tool: LoadTool;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  readonly errors: number;
  /** `errors` by kind, as the tool names them (e.g. `status`, `read`, `timeout`); only kinds that occurred. */
  readonly errorKinds: Readonly<Record<string, number>>;
}

function nonZero(kinds: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(kinds).filter((e): e is [string, number] => (e[1] ?? 0) > 0));
}

/** The tool to use: wrk when on PATH unless `prefer` says otherwise. */
export function chooseTool(prefer?: LoadTool): LoadTool {
  if (prefer) return prefer;
  return which('wrk') ? 'wrk' : 'autocannon';
}

const MARK = 'BENCH_JSON ';

/** A Lua long-bracket string literal that cannot be closed by the text inside it. */
function luaString(text: string): string {
  let eq = '';
  while (text.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${text}]${eq}]`;
}

/** wrk's script: method and body, and a `done` hook printing the figures wrk's own summary lacks (p99.9). */
export function wrkScript(spec: Pick<LoadSpec, 'method' | 'body' | 'rotatingCookies'>): string {
  const rotation =
    spec.rotatingCookies === undefined
      ? []
      : [
          `local cookies = { ${spec.rotatingCookies.map(luaString).join(', ')} }`,
          'local requests = {}',
          'local next = 0',
          // Built once per thread: formatting a request per call would make wrk the bottleneck.
          'init = function(args)',
          '  for i, c in ipairs(cookies) do requests[i] = wrk.format(nil, nil, { ["Cookie"] = c }) end',
          'end',
          'request = function()',
          '  next = next % #requests + 1',
          '  return requests[next]',
          'end',
        ];
  return [
    `wrk.method = "${spec.method ?? 'GET'}"`,
    spec.body === undefined ? '' : `wrk.body = ${luaString(spec.body)}`,
    ...rotation,
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARK}{"requests":%d,"durationUs":%d,"p50":%.1f,"p99":%.1f,"p999":%.1f,` +
      `"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n', summary.requests, summary.duration, ` +
      `latency:percentile(50), latency:percentile(99), latency:percentile(99.9), ` +
      `e.connect, e.read, e.write, e.status, e.timeout))`,
    'end',
    '',
  ].join('\n');
}

/** Parses the line the wrk script prints. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice(MARK.length)) as Record<string, number | undefined>;
  const requests = r.requests ?? 0;
  const seconds = (r.durationUs ?? 0) / 1e6;
  return {
    tool: 'wrk',
    requests,
    rps: seconds > 0 ? requests / seconds : 0,
    p50Ms: (r.p50 ?? 0) / 1000,
    p99Ms: (r.p99 ?? 0) / 1000,
    p999Ms: (r.p999 ?? 0) / 1000,
    errors: (['connect', 'read', 'write', 'status', 'timeout'] as const).reduce((sum, k) => sum + (r[k] ?? 0), 0),
    errorKinds: nonZero({ connect: r.connect, read: r.read, write: r.write, status: r.status, timeout: r.timeout }),
  };
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; p99_9: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}

/** Parses `autocannon --json` output (latencies are already in ms). 3xx count as non-2xx there, as errors here. */
export function parseAutocannonOutput(stdout: string): LoadResult {
  const start = stdout.indexOf('{');
  if (start === -1) throw new Error(`autocannon printed no result:\n${stdout}`);
  const r = JSON.parse(stdout.slice(start)) as AutocannonJson;
  const requests = r.requests.total;
  return {
    tool: 'autocannon',
    requests,
    rps: r.duration > 0 ? requests / r.duration : r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    p999Ms: r.latency.p99_9,
    errors: r.errors + r.timeouts + r.non2xx,
    errorKinds: nonZero({ socket: r.errors, timeout: r.timeouts, status: r.non2xx }),
  };
}

function headerArgs(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
}

/** The command line for one run; `scriptDir` receives wrk's Lua script. */
export function loadCommand(tool: LoadTool, spec: LoadSpec, scriptDir: string): { command: string; args: string[] } {
  const headers = spec.headers ?? {};
  if (tool === 'wrk' && spec.amount === undefined) {
    const script = join(scriptDir, `wrk-${spec.method ?? 'GET'}-${String(process.hrtime.bigint())}.lua`);
    writeFileSync(script, wrkScript(spec));
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationSec}s`, '--timeout', '10s', '-s', script];
    return { command: 'wrk', args: [...args, ...headerArgs(headers), spec.url] };
  }
  if (spec.rotatingCookies !== undefined) throw new Error('rotating cookies need wrk');
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [cli, '--json', '--no-progress', '-c', String(spec.connections), '-t', '10'];
  args.push(...(spec.amount === undefined ? ['-d', String(spec.durationSec)] : ['-a', String(spec.amount)]));
  if (spec.method) args.push('-m', spec.method);
  if (spec.body !== undefined) args.push('-b', spec.body);
  args.push(...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}:${v}`]), spec.url);
  return { command: process.execPath, args };
}

/** Runs the load generator in a child process and returns its figures; rejects on failure or after a time limit. */
export async function runLoad(tool: LoadTool, spec: LoadSpec, scriptDir: string): Promise<LoadResult> {
  const effective: LoadTool = spec.amount === undefined ? tool : 'autocannon';
  const { command, args } = loadCommand(effective, spec, scriptDir);
  const limitMs = (spec.amount === undefined ? spec.durationSec : 30) * 1000 + 30_000;
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${effective} exited with ${String(code)}: ${err.trim() || out.trim()}`));
    });
  });
  return effective === 'wrk' ? parseWrkOutput(stdout) : parseAutocannonOutput(stdout);
}
