/**
 * The benchmark's output: one table (plain text for the terminal, markdown for docs/benchmarks.md) with the
 * proxy matrix, the extra measurements, the machine and the status of issue 7's targets.
 */
import { aggregateRows, compare, evaluateTargets, type Row } from './aggregate.js';
import type { Sample } from './matrix.js';
import { formatProfile } from './profile.js';
import type { ProfileResult } from './scenarios/profile-run.js';
import type { LoginThroughput } from './scenarios/login-throughput.js';
import type { Resident } from './proc-stats.js';
import type { FloorStep } from './scenarios/memory-floor.js';
import type { RefreshStorm } from './scenarios/refresh-storm.js';
import type { TokenApiResult } from './scenarios/token-api.js';
import { isSkipped, type TargetStart } from './target.js';

/** Everything one run found, plus the facts needed to read it. */
export interface BenchReport {
  readonly mode: 'smoke' | 'full';
  readonly date: string;
  readonly commit: string;
  /** Machine and software, one fact per entry (`CPU`: `2 × …`). */
  readonly environment: readonly (readonly [string, string])[];
  readonly targets: readonly TargetStart[];
  readonly samples: readonly Sample[];
  /** vestibule (d)'s RSS at rest, `restSec` seconds after the matrix. */
  readonly idleAfter: Resident | undefined;
  readonly restSec?: number | undefined;
  /** vestibule (d)'s RSS right after start and login, before any load. */
  readonly idleFresh: Resident | undefined;
  /** RSS of bare node processes with the stack's libraries loaded: what vestibule's idle RSS is read against. */
  readonly floor?: readonly FloorStep[] | undefined;
  readonly logins?: LoginThroughput | undefined;
  /** The same login loop against mod_auth_openidc, same mock, same run. */
  readonly loginsModAuthOpenidc?: LoginThroughput | undefined;
  readonly storm?: RefreshStorm | undefined;
  readonly tokenApi?: TokenApiResult | undefined;
  readonly profile?: ProfileResult | undefined;
  /** Extra measurements that failed, with the reason. */
  readonly problems: readonly string[];
}

type Cell = string;
const MB = 1024 * 1024;
const num = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const ms = (n: number): string => num(n, 2);
const mb = (n: number | undefined): string => (n === undefined ? '–' : num(n / MB));

function labelOf(report: BenchReport, id: string): string {
  return report.targets.find((t) => t.id === id)?.label ?? id;
}

function matrixCells(report: BenchReport, rows: readonly Row[]): Cell[][] {
  const body = rows.map((r) => [
    labelOf(report, r.id),
    String(r.connections),
    num(r.rps),
    ms(r.p50Ms),
    ms(r.p99Ms),
    ms(r.p999Ms),
    String(r.errors),
    r.cpuCores === undefined ? '–' : num(r.cpuCores, 2),
    r.cpuCores === undefined || r.rps === 0 ? '–' : num((r.cpuCores * 1e6) / r.rps),
    `${mb(r.idleRss)} / ${mb(r.peakRss)}`,
  ]);
  for (const t of report.targets.filter(isSkipped)) {
    body.push([t.label, '–', 'skipped', '', '', '', '', '', '', '']);
  }
  return body;
}

const MATRIX_HEAD = [
  'target',
  'conns',
  'req/s',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'errors',
  'CPU cores',
  'CPU µs/req',
  'RSS idle / peak MB',
];

function comparisonCells(report: BenchReport): Cell[][] {
  const pairs = [
    ['d', 'b'],
    ['d', 'c'],
    ['d', 'f'],
    ['e', 'd'],
    ['g', 'd'],
    ['b', 'a'],
  ] as const;
  return pairs.flatMap(([x, y]) =>
    compare(report.samples, x, y).map((c) => [
      `(${x}) vs (${y})`,
      String(c.connections),
      `${(c.rpsRatio * 100).toFixed(1)} %`,
      `${c.p99DeltaMs >= 0 ? '+' : ''}${c.p99DeltaMs.toFixed(2)} ms`,
      c.cpuPerRequestRatio === undefined ? '–' : `${c.cpuPerRequestRatio.toFixed(2)}×`,
      String(c.rounds),
    ]),
  );
}

const COMPARISON_HEAD = ['pair', 'conns', 'req/s ratio', 'p99 difference', 'CPU per request', 'rounds'];

function extraCells(report: BenchReport): Cell[][] {
  const out: Cell[][] = [];
  const l = report.logins;
  const lf = report.loginsModAuthOpenidc;
  const loginRow = (who: string, x: LoginThroughput): Cell[] => [
    `login throughput, ${who} (${x.concurrency} concurrent clients)`,
    `${num(x.perSec, 1)} logins/s`,
    `p50 ${ms(x.p50Ms)} ms, p99 ${ms(x.p99Ms)} ms`,
    `${x.logins} logins, ${x.errors} errors`,
  ];
  if (l) out.push(loginRow('vestibule', l));
  if (lf) out.push(loginRow('mod_auth_openidc', lf));
  if (l && lf && lf.perSec > 0) {
    out.push(['login throughput, vestibule / mod_auth_openidc', `${(l.perSec / lf.perSec).toFixed(2)}×`, '', '']);
  }
  const s = report.storm;
  if (s) {
    out.push([
      `refresh storm (${s.requests} concurrent requests at expiry)`,
      `${s.refreshGrants} refresh grant${s.refreshGrants === 1 ? '' : 's'}`,
      `p50 ${ms(s.p50Ms)} ms, p99 ${ms(s.p99Ms)} ms`,
      `${s.errors} errors`,
    ]);
  }
  const t = report.tokenApi;
  if (t) {
    out.push([
      `token API, warm cache (${t.connections} connections)`,
      `${num(t.rps)} req/s`,
      `p50 ${ms(t.p50Ms)} ms, p99 ${ms(t.p99Ms)} ms, p99.9 ${ms(t.p999Ms)} ms`,
      `${t.errors} errors`,
    ]);
  }
  for (const p of report.problems) out.push(['failed', p, '', '']);
  return out;
}

const EXTRA_HEAD = ['measurement', 'result', 'latency', 'count'];

function checkCells(report: BenchReport): Cell[][] {
  return evaluateTargets(
    report.samples,
    {
      fresh: report.idleFresh?.rss,
      afterLoad: report.idleAfter?.rss,
      restSec: report.restSec,
      floor: report.floor?.at(-1)?.rss,
    },
    { refreshGrants: report.storm?.refreshGrants },
  ).map((c) => [c.name, c.status, c.detail]);
}

/** The stack's floor, then vestibule's own idle readings: how much of the idle RSS is vestibule's. */
function memoryCells(report: BenchReport): Cell[][] {
  const row = (label: string, r: Resident): Cell[] => [label, mb(r.rss), mb(r.file), mb(r.rss - r.file)];
  const out: Cell[][] = (report.floor ?? []).map((f) => row(f.label, f));
  if (report.idleFresh !== undefined) out.push(row('vestibule (d) right after start and login', report.idleFresh));
  if (report.idleAfter !== undefined) {
    const when = report.restSec === undefined ? '' : `, ${report.restSec} s after the load`;
    out.push(row(`vestibule (d) at rest${when}`, report.idleAfter));
  }
  return out;
}

function textTable(head: readonly Cell[], body: readonly Cell[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly Cell[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function markdownTable(head: readonly Cell[], body: readonly Cell[][]): string {
  const esc = (c: Cell): string => c.replaceAll('|', '\\|');
  const line = (r: readonly Cell[]): string => `| ${r.map(esc).join(' | ')} |`;
  const align = head.map((_, i) => (i === 0 ? ':--' : '--:'));
  return [line(head), `| ${align.join(' | ')} |`, ...body.map(line)].join('\n');
}

function sections(report: BenchReport): { title: string; head: Cell[]; body: Cell[][] }[] {
  return [
    {
      title: 'Proxy throughput and latency',
      head: MATRIX_HEAD,
      body: matrixCells(report, aggregateRows(report.samples)),
    },
    {
      title: 'Ratios within the same round (median over rounds)',
      head: COMPARISON_HEAD,
      body: comparisonCells(report),
    },
    { title: 'Login, refresh and token API', head: EXTRA_HEAD, body: extraCells(report) },
    {
      title: 'Idle memory against the stack’s floor (same node flags as vestibule, read after the same rest)',
      head: ['process', 'RSS MB', 'file-backed MB', 'anonymous MB'],
      body: memoryCells(report),
    },
    { title: 'Targets', head: ['target', 'status', 'measured'], body: checkCells(report) },
  ];
}

function notes(report: BenchReport): string[] {
  const out = report.targets.flatMap((t) => ('note' in t && t.note !== undefined ? [`${t.label}: ${t.note}`] : []));
  for (const r of aggregateRows(report.samples).filter((row) => row.errors > 0)) {
    const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${n} ${k}`);
    out.push(`${labelOf(report, r.id)} at ${r.connections} connections: errors were ${kinds.join(', ')}`);
  }
  for (const t of report.targets.filter(isSkipped)) out.push(`${t.label} skipped: ${t.reason}`);
  return out;
}

export function renderText(report: BenchReport): string {
  const env = report.environment.map(([k, v]) => `  ${k}: ${v}`).join('\n');
  const parts = [`vestibule benchmark (${report.mode}) — ${report.date}, commit ${report.commit}\n${env}`];
  for (const s of sections(report)) parts.push(`${s.title}\n${textTable(s.head, s.body)}`);
  const n = notes(report);
  if (n.length > 0) parts.push(n.join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/** `chart`: the SVG drawn from the same run, relative to the doc, embedded above the tables. */
export function renderMarkdown(report: BenchReport, o: { chart?: string } = {}): string {
  const env = report.environment.map(([k, v]) => `- ${k}: ${v}`).join('\n');
  const parts = [`Run of ${report.date} (${report.mode}), commit \`${report.commit}\`:\n\n${env}`];
  if (o.chart !== undefined) {
    parts.push(
      `![requests/s and p99 per target and connection count, and requests/s as a share of the floors, from this run](${o.chart})`,
    );
  }
  for (const s of sections(report)) parts.push(`#### ${s.title}\n\n${markdownTable(s.head, s.body)}`);
  const n = notes(report);
  if (n.length > 0) parts.push(n.map((x) => `- ${x}`).join('\n'));
  const p = report.profile;
  if (p) {
    parts.push(
      `#### CPU profile of vestibule (${p.target ?? 'd'}) at ${p.connections} connections (${num(p.rps)} req/s under the profiler)\n\n` +
        `\`\`\`text\n${formatProfile(p.summary)}\n\`\`\``,
    );
  }
  return `${parts.join('\n\n')}\n`;
}
