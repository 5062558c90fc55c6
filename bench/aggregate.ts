/**
 * From raw samples to the table's figures and issue 7's targets: medians over runs per target and connection
 * count, and ratios taken between targets measured in the same round, then their median.
 */
import type { Sample } from './matrix.js';
import { median } from './stats.js';
import type { TargetId } from './target.js';

/** One row of the main table. Latencies in ms, memory in bytes, CPU in cores. */
export interface Row {
  readonly id: TargetId;
  readonly connections: number;
  readonly runs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Summed over the runs. */
  readonly errors: number;
  /** `errors` by kind, summed over the runs. */
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly cpuCores: number | undefined;
  /** RSS right before a run (the process not under load), median. */
  readonly idleRss: number | undefined;
  /** Highest RSS during any run. */
  readonly peakRss: number | undefined;
}

const defined = <T>(xs: readonly (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);

function sumKinds(all: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kinds of all) for (const [k, n] of Object.entries(kinds)) out[k] = (out[k] ?? 0) + n;
  return out;
}

export function aggregateRows(samples: readonly Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.connections}/${s.id}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const rows: Row[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const usage = group.map((s) => s.usage);
    const peaks = defined(usage.map((u) => u?.peakRss));
    rows.push({
      id: first.id,
      connections: first.connections,
      runs: group.length,
      rps: median(group.map((s) => s.load.rps)),
      p50Ms: median(group.map((s) => s.load.p50Ms)),
      p99Ms: median(group.map((s) => s.load.p99Ms)),
      p999Ms: median(group.map((s) => s.load.p999Ms)),
      errors: group.reduce((sum, s) => sum + s.load.errors, 0),
      errorKinds: sumKinds(group.map((s) => s.load.errorKinds)),
      cpuCores: peaks.length > 0 ? median(defined(usage.map((u) => u?.cpuCores))) : undefined,
      idleRss: peaks.length > 0 ? median(defined(usage.map((u) => u?.idleRss))) : undefined,
      peakRss: peaks.length > 0 ? Math.max(...peaks) : undefined,
    });
  }
  return rows.sort((a, b) => a.connections - b.connections || a.id.localeCompare(b.id));
}

/** A same-round comparison of two targets at one connection count: median of the per-round values. */
export interface Comparison {
  readonly connections: number;
  /** rps(x) / rps(y) */
  readonly rpsRatio: number;
  /** p99(x) − p99(y), ms */
  readonly p99DeltaMs: number;
  /** CPU time per request of x's process over y's; undefined when either has no process to watch. */
  readonly cpuPerRequestRatio: number | undefined;
  readonly rounds: number;
}

/** CPU seconds per request of one sample, or undefined without usage. */
function cpuPerRequest(s: Sample): number | undefined {
  return s.usage && s.load.rps > 0 ? s.usage.cpuCores / s.load.rps : undefined;
}

export function compare(samples: readonly Sample[], x: TargetId, y: TargetId): Comparison[] {
  const byKey = new Map(samples.map((s) => [`${s.round}/${s.connections}/${s.id}`, s]));
  const out: Comparison[] = [];
  for (const connections of [...new Set(samples.map((s) => s.connections))].sort((a, b) => a - b)) {
    const ratios: number[] = [];
    const deltas: number[] = [];
    const cpu: number[] = [];
    for (const round of new Set(samples.map((s) => s.round))) {
      const a = byKey.get(`${round}/${connections}/${x}`);
      const b = byKey.get(`${round}/${connections}/${y}`);
      if (!a || !b || b.load.rps === 0) continue;
      ratios.push(a.load.rps / b.load.rps);
      deltas.push(a.load.p99Ms - b.load.p99Ms);
      const ca = cpuPerRequest(a);
      const cb = cpuPerRequest(b);
      if (ca !== undefined && cb !== undefined && cb > 0) cpu.push(ca / cb);
    }
    if (ratios.length > 0) {
      out.push({
        connections,
        rpsRatio: median(ratios),
        p99DeltaMs: median(deltas),
        cpuPerRequestRatio: cpu.length > 0 ? median(cpu) : undefined,
        rounds: ratios.length,
      });
    }
  }
  return out;
}

/** One of issue 7's targets: met, missed, or not measurable in this run (and why). */
export interface Check {
  readonly name: string;
  readonly status: 'met' | 'missed' | 'not measured';
  readonly detail: string;
}

const MB = 1024 * 1024;
const pct = (r: number): string => `${(r * 100).toFixed(1)} %`;

function ratioCheck(
  name: string,
  cs: readonly Comparison[],
  ok: (c: Comparison) => boolean,
  show: (c: Comparison) => string,
  why: string,
): Check {
  if (cs.length === 0) return { name, status: 'not measured', detail: why };
  const detail = cs.map((c) => `c=${c.connections}: ${show(c)}`).join(', ');
  return { name, status: cs.every(ok) ? 'met' : 'missed', detail };
}

/** vestibule (d)'s RSS when idle, in bytes, and the stack's own floor for comparison. */
export interface IdleMemory {
  /** Right after start and login, before any load. */
  readonly fresh?: number | undefined;
  /** At rest after the load, `restSec` seconds after it stopped. */
  readonly afterLoad?: number | undefined;
  readonly restSec?: number | undefined;
  /** A bare node with vestibule's runtime dependencies loaded and nothing started. */
  readonly floor?: number | undefined;
}

/** Other results a target is checked on. */
export interface OtherResults {
  /** Refresh grants the refresh storm caused (1 is right). */
  readonly refreshGrants?: number | undefined;
}

/**
 * The benchmark's targets (issue 19), evaluated on this run's samples: the one-busy-user targets kept from issue 7,
 * the many-users targets for (g), peak RSS under load in every vestibule row, idle RSS at rest against the stack's
 * floor read after the same rest, and the refresh storm's single grant.
 */
export function evaluateTargets(samples: readonly Sample[], idle: IdleMemory = {}, other: OtherResults = {}): Check[] {
  const db = compare(samples, 'd', 'b');
  const df = compare(samples, 'd', 'f');
  const ed = compare(samples, 'e', 'd');
  const gd = compare(samples, 'g', 'd');
  const vestibule = samples.filter((s) => s.id === 'd' || s.id === 'e' || s.id === 'g');
  const peakOf = (id: TargetId): number | undefined => {
    const peaks = defined(samples.filter((s) => s.id === id).map((s) => s.usage?.peakRss));
    return peaks.length > 0 ? Math.max(...peaks) : undefined;
  };
  const peaks = (['d', 'e', 'g'] as const).flatMap((id) => {
    const p = peakOf(id);
    return p === undefined ? [] : [{ id, mb: p / MB }];
  });
  const peak = Math.max(0, ...peaks.map((p) => p.mb));
  const grants = other.refreshGrants;
  return [
    ratioCheck(
      '(d) ≥ 90 % of (b) req/s',
      db,
      (c) => c.rpsRatio >= 0.9,
      (c) => pct(c.rpsRatio),
      'needs (b) and (d)',
    ),
    ratioCheck(
      '(d) p99 within 1 ms of (b) at 16–64 connections',
      db.filter((c) => c.connections <= 64),
      (c) => c.p99DeltaMs <= 1,
      (c) => `${c.p99DeltaMs >= 0 ? '+' : ''}${c.p99DeltaMs.toFixed(2)} ms`,
      'needs (b) and (d) at 64 connections or fewer',
    ),
    ratioCheck(
      '(d) ≥ 4× (f) req/s',
      df,
      (c) => c.rpsRatio >= 4,
      (c) => `${c.rpsRatio.toFixed(2)}×`,
      'needs (d) and (f)',
    ),
    ratioCheck(
      '(e) within 5 % of (d) req/s',
      ed,
      (c) => c.rpsRatio >= 0.95,
      (c) => pct(c.rpsRatio),
      'needs (d) and (e)',
    ),
    ratioCheck(
      '(g) ≥ 80 % of (d) req/s',
      gd,
      (c) => c.rpsRatio >= 0.8,
      (c) => pct(c.rpsRatio),
      'needs (d) and (g)',
    ),
    ratioCheck(
      '(g) CPU per request ≤ 1.3× (d)',
      gd.filter((c) => c.cpuPerRequestRatio !== undefined),
      (c) => (c.cpuPerRequestRatio ?? Infinity) <= 1.3,
      (c) => `${(c.cpuPerRequestRatio ?? NaN).toFixed(2)}×`,
      'needs (d) and (g) with CPU readings',
    ),
    vestibule.length === 0
      ? { name: 'RSS under load ≤ 128 MB', status: 'not measured', detail: 'needs (d), (e) or (g)' }
      : {
          name: 'RSS under load ≤ 128 MB',
          status: peak <= 128 ? 'met' : 'missed',
          detail: `peak ${peaks.map((p) => `(${p.id}) ${p.mb.toFixed(0)} MB`).join(', ')}`,
        },
    idleCheck(idle),
    grants === undefined
      ? { name: '1 refresh grant in the storm', status: 'not measured', detail: 'the refresh storm did not run' }
      : {
          name: '1 refresh grant in the storm',
          status: grants === 1 ? 'met' : 'missed',
          detail: `${grants} refresh grant${grants === 1 ? '' : 's'}`,
        },
  ];
}

/** Idle RSS at rest may exceed the stack's floor (read after the same rest) by this much. */
export const IDLE_ABOVE_FLOOR_MB = 16;

function idleCheck(idle: IdleMemory): Check {
  const name = `RSS idle at rest ≤ floor + ${IDLE_ABOVE_FLOOR_MB} MB`;
  if (idle.afterLoad === undefined && idle.fresh === undefined)
    return { name, status: 'not measured', detail: 'needs (d)' };
  const mbOf = (n: number): string => `${(n / MB).toFixed(0)} MB`;
  const parts = [
    idle.fresh === undefined ? undefined : `${mbOf(idle.fresh)} after start and login`,
    idle.afterLoad === undefined
      ? undefined
      : `${mbOf(idle.afterLoad)} at rest${idle.restSec === undefined ? '' : ` ${idle.restSec} s`} after the load`,
    idle.floor === undefined
      ? undefined
      : `floor (node + runtime dependencies, nothing started, same rest) ${mbOf(idle.floor)}`,
  ];
  const status =
    idle.afterLoad === undefined || idle.floor === undefined
      ? 'not measured'
      : idle.afterLoad <= idle.floor + IDLE_ABOVE_FLOOR_MB * MB
        ? 'met'
        : 'missed';
  return { name, status, detail: defined(parts).join('; ') };
}
