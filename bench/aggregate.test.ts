import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateRows, compare, evaluateTargets } from './aggregate.js';
import type { Sample } from './matrix.js';
import type { TargetId } from './target.js';

const MB = 1024 * 1024;

function sample(id: TargetId, round: number, rps: number, p99Ms: number, peakMb?: number): Sample {
  return {
    id,
    connections: 64,
    round,
    load: {
      tool: 'wrk',
      requests: rps * 10,
      rps,
      p50Ms: p99Ms / 4,
      p99Ms,
      p999Ms: p99Ms * 2,
      errors: 1,
      errorKinds: { status: 1 },
    },
    usage: peakMb === undefined ? undefined : { idleRss: 50 * MB, peakRss: peakMb * MB, cpuCores: 0.9 },
  };
}

describe('aggregateRows', () => {
  it('takes medians over runs, sums errors and keeps the highest peak RSS', () => {
    const rows = aggregateRows([
      sample('d', 1, 900, 3, 100),
      sample('d', 2, 1000, 5, 120),
      sample('d', 3, 1100, 4, 110),
    ]);
    assert.equal(rows.length, 1);
    const d = rows[0]!;
    assert.equal(d.rps, 1000);
    assert.equal(d.p99Ms, 4);
    assert.equal(d.errors, 3);
    assert.deepEqual(d.errorKinds, { status: 3 });
    assert.equal(d.peakRss, 120 * MB);
    assert.equal(d.idleRss, 50 * MB);
    assert.equal(d.runs, 3);
  });

  it('compares CPU time per request when both targets have a process', () => {
    const c = compare([sample('b', 1, 1000, 2, 50), sample('d', 1, 500, 3, 60)], 'd', 'b')[0]!;
    // Both used 0.9 cores; d served half the requests, so each cost twice the CPU.
    assert.equal(c.cpuPerRequestRatio, 2);
  });

  it('leaves memory and CPU empty for a target without a process', () => {
    const [a] = aggregateRows([sample('a', 1, 5000, 1)]);
    assert.equal(a?.peakRss, undefined);
    assert.equal(a?.cpuCores, undefined);
  });
});

describe('compare', () => {
  it('takes the median of per-round ratios, not the ratio of medians', () => {
    const samples = [
      sample('b', 1, 1000, 2),
      sample('d', 1, 900, 2.5),
      sample('b', 2, 2000, 2),
      sample('d', 2, 1000, 4),
      sample('b', 3, 1000, 2),
      sample('d', 3, 950, 2.2),
    ];
    const c = compare(samples, 'd', 'b')[0]!;
    assert.equal(c.rpsRatio, 0.9);
    assert.equal(c.p99DeltaMs, 0.5);
    assert.equal(c.rounds, 3);
    assert.equal(c.cpuPerRequestRatio, undefined);
  });
});

describe('evaluateTargets', () => {
  it('marks each target met or missed with the measured value', () => {
    const samples = [
      sample('b', 1, 1000, 2),
      sample('d', 1, 950, 2.5, 100),
      sample('e', 1, 920, 2.5, 140),
      sample('f', 1, 1200, 3, undefined),
    ];
    const checks = evaluateTargets(samples, { fresh: 60 * MB, afterLoad: 80 * MB, restSec: 20, floor: 58 * MB });
    const check = (name: string) => checks.find((c) => c.name === name)!;
    assert.equal(check('(d) ≥ 90 % of (b) req/s').status, 'met');
    assert.equal(check('(d) ≥ 90 % of (b) req/s').detail, 'c=64: 95.0 %');
    assert.equal(check('(d) p99 within 1 ms of (b) at 16–64 connections').status, 'met');
    assert.equal(check('(d) ≥ 4× (f) req/s').status, 'missed');
    assert.equal(check('(e) within 5 % of (d) req/s').status, 'met');
    assert.equal(check('RSS under load ≤ 128 MB').status, 'missed');
    assert.equal(check('RSS under load ≤ 128 MB').detail, 'peak (d) 100 MB, (e) 140 MB');
    assert.equal(check('RSS idle at rest ≤ floor + 16 MB').status, 'missed');
    assert.equal(
      check('RSS idle at rest ≤ floor + 16 MB').detail,
      '60 MB after start and login; 80 MB at rest 20 s after the load; floor (node + runtime dependencies, nothing started, same rest) 58 MB',
    );
  });

  it('reads the idle target at rest against the floor read after the same rest', () => {
    const idle = (afterLoad: number, floor?: number) =>
      evaluateTargets([], {
        fresh: 50 * MB,
        afterLoad: afterLoad * MB,
        floor: floor === undefined ? undefined : floor * MB,
      }).find((c) => c.name === 'RSS idle at rest ≤ floor + 16 MB')!;
    assert.equal(idle(76, 60).status, 'met');
    assert.equal(idle(77, 60).status, 'missed');
    assert.equal(idle(70).status, 'not measured');
  });

  it('checks (g) against (d): req/s and CPU per request', () => {
    const g = (rps: number, cores: number): Sample => ({
      ...sample('g', 1, rps, 3, 100),
      usage: { idleRss: 0, peakRss: 100 * MB, cpuCores: cores },
    });
    const d = { ...sample('d', 1, 1000, 2.5, 100), usage: { idleRss: 0, peakRss: 100 * MB, cpuCores: 1 } };
    const check = (s: Sample[], name: string) => evaluateTargets(s).find((c) => c.name === name)!;
    assert.equal(check([d, g(850, 1)], '(g) ≥ 80 % of (d) req/s').status, 'met');
    assert.equal(check([d, g(850, 1)], '(g) CPU per request ≤ 1.3× (d)').detail, 'c=64: 1.18×');
    assert.equal(check([d, g(700, 1)], '(g) ≥ 80 % of (d) req/s').status, 'missed');
    assert.equal(check([d, g(700, 1)], '(g) CPU per request ≤ 1.3× (d)').status, 'missed');
  });

  it('wants exactly one refresh grant in the storm', () => {
    const storm = (n?: number) =>
      evaluateTargets([], {}, { refreshGrants: n }).find((c) => c.name === '1 refresh grant in the storm')!;
    assert.equal(storm(1).status, 'met');
    assert.equal(storm(2).status, 'missed');
    assert.equal(storm().status, 'not measured');
  });

  it('says a target was not measured when a side of the comparison is missing', () => {
    const checks = evaluateTargets([sample('d', 1, 950, 2.5, 100)]);
    assert.deepEqual(
      checks.map((c) => c.status),
      [
        'not measured',
        'not measured',
        'not measured',
        'not measured',
        'not measured',
        'not measured',
        'met',
        'not measured',
        'not measured',
      ],
    );
  });
});
