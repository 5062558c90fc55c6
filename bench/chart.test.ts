import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChart } from './chart.js';
import type { Sample } from './matrix.js';
import type { TargetId, TargetStart } from './target.js';

const MB = 1024 * 1024;

function sample(id: TargetId, connections: number, round: number, rps: number, p99Ms: number): Sample {
  return {
    id,
    connections,
    round,
    load: {
      tool: 'wrk',
      requests: rps * 10,
      rps,
      p50Ms: p99Ms / 4,
      p99Ms,
      p999Ms: p99Ms * 2,
      errors: 0,
      errorKinds: {},
    },
    usage: { idleRss: 80 * MB, peakRss: 110 * MB, cpuCores: 1 },
  };
}

const target = (id: TargetId, label: string): TargetStart => ({
  id,
  label,
  url: 'http://127.0.0.1/',
  headers: {},
  pid: 1,
});

describe('renderChart', () => {
  it('draws every measured target as SVG, with the floors and the connection counts', () => {
    const targets = [
      target('b', '(b) bare Fastify proxy'),
      target('c', '(c) nginx proxy_pass'),
      target('d', '(d) vestibule, 1 session'),
      target('g', '(g) vestibule, 10,000 sessions in turn'),
      { id: 'f', label: '(f) Apache mod_auth_openidc', reason: 'apache2 is not installed' } as const,
    ];
    const samples = [16, 64].flatMap((c) =>
      [1, 2].flatMap((round) => [
        sample('b', c, round, 20_000, 4),
        sample('c', c, round, 40_000, 2),
        sample('d', c, round, 21_000, 3.5),
        sample('g', c, round, 17_000, 5),
      ]),
    );
    const svg = renderChart({ date: '2026-12-07 00:00 UTC', commit: 'abc1234', targets, samples });
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    for (const name of [
      '(b) bare Fastify proxy',
      '(c) nginx proxy_pass',
      '(d) vestibule, 1 session',
      '(g) vestibule, 10,000 sessions in turn',
    ])
      assert.ok(svg.includes(name), `names ${name}`);
    assert.ok(!svg.includes('mod_auth_openidc'), 'a skipped target is not drawn');
    assert.ok(svg.includes('16 connections') && svg.includes('64 connections'));
    assert.ok(svg.includes('(g) / (b) bare Fastify'), 'ratios to the floors');
    // The panel's title, whose absence the next test checks: it must be in the SVG when the panel is.
    assert.ok(svg.includes('share of the floors'), 'the ratio panel is titled');
    assert.ok(svg.includes('85 %'), '(g) at 85 % of (b)');
    assert.ok(svg.includes('commit abc1234'));
  });

  it('leaves the ratio panel out when no floor was measured', () => {
    const svg = renderChart({
      date: 'd',
      commit: 'c',
      targets: [target('d', '(d) vestibule, 1 session')],
      samples: [sample('d', 16, 1, 1000, 3)],
    });
    assert.ok(svg.includes('(d) vestibule, 1 session'));
    assert.ok(!svg.includes('share of the floors'));
  });
});
