import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { atoms, fuzzParams, RUNS } from './fuzz-settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What fuzz-settings.ts gives in a fresh process with `env` (it reads the environment once, on import). */
function settingsUnder(env: Record<string, string>): { runs: number; params: unknown; scaled: unknown } {
  const script = [
    "const m = await import('./test/support/fuzz-settings.ts');",
    'process.stdout.write(JSON.stringify({ runs: m.RUNS, params: m.fuzzParams(), scaled: m.fuzzParams(7) }));',
  ].join('\n');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FUZZ_')));
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { runs: number; params: unknown; scaled: unknown };
}

describe('fuzz settings', () => {
  it('fuzzParams: RUNS runs by default, `runs` when given, a seed only when FUZZ_SEED is set', () => {
    assert.equal(fuzzParams().numRuns, RUNS);
    assert.equal(fuzzParams(12).numRuns, 12);
    assert.equal('seed' in fuzzParams(), process.env.FUZZ_SEED !== undefined);
  });

  it('without FUZZ_* variables: 300 runs and no seed', () => {
    assert.deepEqual(settingsUnder({}), { runs: 300, params: { numRuns: 300 }, scaled: { numRuns: 7 } });
  });

  it('FUZZ_RUNS sets the run count and FUZZ_SEED replays a seed, also for scaled properties', () => {
    assert.deepEqual(settingsUnder({ FUZZ_RUNS: '25', FUZZ_SEED: '-1234' }), {
      runs: 25,
      params: { numRuns: 25, seed: -1234 },
      scaled: { numRuns: 7, seed: -1234 },
    });
  });

  it('atoms: non-empty fragments, among them the dot segments, encodings and hosts that broke other proxies', () => {
    const seen = new Set(fc.sample(atoms, { numRuns: 3000, seed: 1 }));
    assert.ok([...seen].every((a) => typeof a === 'string' && a.length > 0));
    for (const a of ['/', '..', '%2e', '%2f', '%5c', '%00', ';', '?', '#', '//evil.example', '\\', 'oauth2', 'login']) {
      assert.ok(seen.has(a), `atoms include ${JSON.stringify(a)}`);
    }
    assert.ok(seen.size >= 40, `${seen.size} distinct atoms`);
  });
});
