/**
 * `npm run bench -- --smoke` as CI runs it, so the benchmark never rots: it must finish, print the table with a
 * row for every target (measured, or skipped with the reason when nginx or Apache is not installed), stop every
 * process it started and remove its temp dir. Figures are never asserted: the machine is shared and noisy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LABELS = {
  a: '(a) upstream direct',
  b: '(b) bare Fastify proxy',
  c: '(c) nginx proxy_pass',
  d: '(d) vestibule, 1 session',
  e: '(e) vestibule, 1,000 sessions',
  f: '(f) Apache mod_auth_openidc',
  g: '(g) vestibule, 1,000 sessions in turn',
};
const NUMBER = String.raw`[\d,.]+`;

function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while the table was read.
    }
  }
  return found;
}

/** Runs the smoke benchmark in a child process (its chart written to `chart`) and collects its output. */
function runSmoke(chart: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--chart', chart], {
      cwd: ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', { timeout: 240_000 }, () => {
  const doc = readFileSync(`${ROOT}/docs/benchmarks.md`, 'utf8');
  let run: { status: number | null; stdout: string; stderr: string };
  let lines: string[];
  let svg: string | undefined;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-chart-'));
    try {
      run = await runSmoke(join(dir, 'chart.svg'));
      svg = existsSync(join(dir, 'chart.svg')) ? readFileSync(join(dir, 'chart.svg'), 'utf8') : undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    lines = run.stdout.split('\n');
  });

  it('completes', () => {
    assert.equal(run.status, 0, `exit ${String(run.status)}\n${run.stderr}`);
  });

  it('prints a row for every target: figures, or the reason it was skipped', () => {
    assert.ok(run.stdout.includes('Proxy throughput and latency'), run.stdout);
    for (const [id, label] of Object.entries(LABELS)) {
      const row = lines.find((l) => l.startsWith(label));
      assert.ok(row, `no row for (${id}) in:\n${run.stdout}`);
      const measured = new RegExp(
        `^${label.replace(/[()]/g, '\\$&')}\\s+8\\s+${NUMBER}\\s+${NUMBER}\\s+${NUMBER}\\s+${NUMBER}\\s+\\d+\\s`,
      );
      const skipped = /–\s+skipped$/.test(row) && lines.some((l) => l.startsWith(`${label} skipped: `));
      assert.ok(measured.test(row) || skipped, `row for (${id}) is neither measured nor skipped with a reason: ${row}`);
    }
    // Our own targets never skip: they need nothing outside node_modules and redis-server.
    for (const id of ['a', 'b', 'd', 'e'] as const) {
      assert.ok(!lines.find((l) => l.startsWith(LABELS[id]))?.includes('skipped'), `(${id}) was skipped`);
    }
  });

  it('measures login throughput, the token API and a refresh storm that causes exactly one refresh', () => {
    assert.match(
      run.stdout,
      new RegExp(`^login throughput, vestibule \\(4 concurrent clients\\)\\s+${NUMBER} logins/s`, 'm'),
    );
    // Against mod_auth_openidc too, when Apache runs here (same mock, same run).
    if (!lines.some((l) => l.startsWith(`${LABELS.f} skipped: `))) {
      assert.match(
        run.stdout,
        new RegExp(`^login throughput, mod_auth_openidc \\(4 concurrent clients\\)\\s+${NUMBER} logins/s`, 'm'),
      );
      assert.match(run.stdout, /^login throughput, vestibule \/ mod_auth_openidc\s+[\d.]+×/m);
    }
    assert.match(run.stdout, new RegExp(`^token API, warm cache \\(8 connections\\)\\s+${NUMBER} req/s`, 'm'));
    assert.match(run.stdout, /^refresh storm \(200 concurrent requests at expiry\)\s+1 refresh grant\s/m);
    assert.doesNotMatch(run.stdout, /^failed/m);
  });

  it("puts vestibule's idle memory next to the stack's floor, measured in the same run", () => {
    // RSS, its file-backed part, the rest: three figures a row.
    const figures = String.raw`\s+\d+\s+\d+\s+\d+$`;
    for (const row of ['node, nothing loaded', 'node + fastify loaded', 'vestibule (d) right after start and login']) {
      assert.match(run.stdout, new RegExp(`^${row.replace(/[()+]/g, '\\$&')}${figures}`, 'm'), row);
    }
    assert.match(run.stdout, new RegExp(`^node \\+ all \\d+ runtime dependencies loaded${figures}`, 'm'));
  });

  it('reports the targets and the machine it ran on', () => {
    for (const name of [
      '(d) ≥ 90 % of (b) req/s',
      '(e) within 5 % of (d) req/s',
      '(g) ≥ 80 % of (d) req/s',
      '(g) CPU per request ≤ 1.3× (d)',
      'RSS under load ≤ 128 MB',
      'RSS idle at rest ≤ floor + 16 MB',
      '1 refresh grant in the storm',
    ]) {
      assert.match(
        run.stdout,
        new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(met|missed|not measured)\\s`, 'm'),
      );
    }
    assert.match(run.stdout, /load average \(1\/5\/15 min\): [\d.]+ [\d.]+ [\d.]+ at start/);
  });

  it('prints its progress (plain lines when stderr is not a terminal) and draws the chart as SVG', () => {
    assert.match(
      run.stderr,
      /^bench: \[\d+:\d\d elapsed, ~\d+:\d\d left\] round 1\/1, 8 connections: \(d\) vestibule/m,
    );
    assert.doesNotMatch(run.stderr, /\r/);
    assert.ok(svg?.startsWith('<svg'), 'no SVG chart written');
    for (const id of ['a', 'b', 'd', 'e'] as const)
      assert.ok((svg ?? '').includes(LABELS[id]), `the chart names ${LABELS[id]}`);
  });

  it('cleans up after itself and leaves docs/benchmarks.md alone', () => {
    const tmp = /temp dir (\S+)/.exec(run.stderr)?.[1];
    assert.ok(tmp, run.stderr);
    assert.equal(existsSync(tmp), false, `${tmp} was not removed`);
    // Redis, the mock, nginx and Apache carry the temp dir on their command line.
    assert.deepEqual(processesMentioning(tmp), []);
    assert.equal(readFileSync(`${ROOT}/docs/benchmarks.md`, 'utf8'), doc);
  });
});
