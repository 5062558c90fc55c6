/**
 * The facts a reader needs to judge a run: machine, load average, software versions and the run's settings.
 * Every probe tolerates a missing tool (it reports "not installed").
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { LoadTool } from './load.js';
import type { BenchOptions } from './options.js';

function run(command: string, args: readonly string[], cwd?: string): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}${r.stderr}`.trim();
}

/** `1.29 0.70 1.55` (1, 5 and 15 minutes). */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** Short commit id, marked when the working tree has uncommitted changes. */
export function commitOf(root: string): string {
  const id = run('git', ['rev-parse', '--short', 'HEAD'], root) ?? 'unknown';
  const dirty = (run('git', ['status', '--porcelain'], root) ?? '') !== '';
  return dirty ? `${id} + uncommitted changes` : id;
}

function toolVersion(tool: LoadTool, root: string): string {
  if (tool === 'wrk') return (run('wrk', ['-v'])?.split('\n')[0] ?? 'wrk').replace(/\s+Copyright.*$/, '');
  const pkg = createRequire(join(root, 'package.json')).resolve('autocannon/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return `autocannon ${version} (node CLI; latencies in whole milliseconds)`;
}

function firstLine(text: string | undefined): string {
  return text?.split('\n')[0] ?? 'not installed';
}

export interface EnvironmentInput {
  readonly root: string;
  readonly options: BenchOptions;
  readonly tool: LoadTool;
  readonly vestibuleBuild: string;
  readonly loadAtStart: string;
}

export function describeEnvironment(i: EnvironmentInput): [string, string][] {
  const cpu = cpus();
  const o = i.options;
  const modOidc = run('dpkg-query', ['-W', '-f', '${Version}', 'libapache2-mod-auth-openidc']);
  return [
    [
      'machine',
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}; shared with other jobs, so compare ratios within this run, not absolute figures across runs`,
    ],
    ['load average (1/5/15 min)', `${i.loadAtStart} at start, ${loadAverage()} at end`],
    ['load generator', `${toolVersion(i.tool, i.root)}, its own process, 1 thread, on the same machine`],
    [
      'runs',
      `${o.runs} per figure (median), ${o.durationSec} s each, ${o.warmupSec} s warm-up per target, connections ${o.connections.join(', ')}`,
    ],
    ['node', `${process.version}; vestibule ${i.vestibuleBuild}, NODE_ENV=production, log level info`],
    ['nginx', firstLine(run('nginx', ['-v']))],
    ['apache', `${firstLine(run('apache2', ['-v']))}, mod_auth_openidc ${modOidc ?? 'not installed'}`],
    ['redis', firstLine(run('redis-server', ['--version']))],
  ];
}
