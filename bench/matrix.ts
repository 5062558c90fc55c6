/**
 * The main measurement: every target at every connection count, several times. Runs are interleaved (run 1 of
 * every target, then run 2, …) so that noise from a shared machine spreads over all targets alike, and ratios
 * are taken between targets measured in the same round. Every other round runs the targets in reverse order
 * (A B C, C B A, A B C …), so no target always runs right after the same one (a slow machine warming up or
 * cooling down over a round, or what the previous target left behind, does not land on one target alone).
 */
import { runLoad, type LoadResult, type LoadTool } from './load.js';
import { sampleUsage, type Usage } from './proc-stats.js';
import type { Target, TargetId } from './target.js';

/** One load run against one target. */
export interface Sample {
  readonly id: TargetId;
  readonly connections: number;
  /** Round number, from 1: samples of the same round and connection count are compared with each other. */
  readonly round: number;
  readonly load: LoadResult;
  /** Of the target's process tree; undefined when it has none to watch. */
  readonly usage: Usage | undefined;
}

export interface MatrixPlan {
  readonly connections: readonly number[];
  readonly runs: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly tool: LoadTool;
  readonly scriptDir: string;
  readonly log: (line: string) => void;
  /** Told before each warm-up and run: what it is and how many seconds it is planned to take. */
  readonly step?: (label: string, plannedSec: number) => void;
}

/** Seconds a load run takes beyond its duration (the load generator's start and exit, the sampler). */
export const RUN_OVERHEAD_SEC = 0.5;

/** Planned seconds of {@link runMatrix} for `targets` targets. */
export function plannedMatrixSec(
  targets: number,
  plan: Pick<MatrixPlan, 'connections' | 'runs' | 'durationSec' | 'warmupSec'>,
): number {
  const warm = plan.warmupSec > 0 ? targets * (plan.warmupSec + RUN_OVERHEAD_SEC) : 0;
  return warm + plan.runs * plan.connections.length * targets * (plan.durationSec + RUN_OVERHEAD_SEC);
}

/** One measured run with the target's CPU and memory sampled meanwhile. */
export async function measure(
  target: Target,
  connections: number,
  durationSec: number,
  tool: LoadTool,
  scriptDir: string,
): Promise<{ load: LoadResult; usage: Usage | undefined }> {
  const sampler = target.pid === undefined ? undefined : sampleUsage(target.pid);
  try {
    const spec = { url: target.url, connections, durationSec, headers: target.headers };
    const rotating = target.rotatingCookies === undefined ? {} : { rotatingCookies: target.rotatingCookies };
    const load = await runLoad(tool, { ...spec, ...rotating }, scriptDir);
    return { load, usage: sampler?.stop() };
  } catch (err) {
    sampler?.stop();
    throw err;
  }
}

/** The targets in the order round `round` (from 1) runs them: odd rounds as given, even rounds reversed. */
export function roundOrder<T>(targets: readonly T[], round: number): readonly T[] {
  return round % 2 === 1 ? targets : [...targets].reverse();
}

export async function runMatrix(targets: readonly Target[], plan: MatrixPlan): Promise<Sample[]> {
  if (plan.warmupSec > 0) {
    const c = plan.connections[Math.floor(plan.connections.length / 2)] ?? 16;
    for (const t of targets) {
      if (plan.step) plan.step(`warm-up ${t.label}, ${c} connections`, plan.warmupSec + RUN_OVERHEAD_SEC);
      else plan.log(`warm-up ${t.label} (${plan.warmupSec} s, ${c} connections)`);
      await measure(t, c, plan.warmupSec, plan.tool, plan.scriptDir);
    }
  }
  const samples: Sample[] = [];
  for (let round = 1; round <= plan.runs; round++) {
    for (const connections of plan.connections) {
      for (const t of roundOrder(targets, round)) {
        plan.step?.(
          `round ${round}/${plan.runs}, ${connections} connections: ${t.label}`,
          plan.durationSec + RUN_OVERHEAD_SEC,
        );
        const { load, usage } = await measure(t, connections, plan.durationSec, plan.tool, plan.scriptDir);
        samples.push({ id: t.id, connections, round, load, usage });
        plan.log(
          `round ${round}/${plan.runs} c=${connections} ${t.label}: ${Math.round(load.rps)} req/s, ` +
            `p99 ${load.p99Ms.toFixed(2)} ms, ${load.errors} errors`,
        );
      }
    }
  }
  return samples;
}
