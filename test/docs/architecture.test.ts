import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

describe('docs/architecture.md stays true to the code', () => {
  it('every file it names under src/ exists', () => {
    // `session/store.ts`, `proxy/forward.ts` …: backticked paths relative to src/.
    const named = [...doc.matchAll(/`([a-z-]+\/[a-z-]+(?:\.d)?\.ts)`/g)].map((m) => m[1]!);
    assert.ok(named.length > 30, `the walks name the files (${named.length} found)`);
    const missing = [...new Set(named)].filter((p) => !existsSync(join(root, 'src', p)) && !existsSync(join(root, p)));
    assert.deepEqual(missing, [], 'files named in docs/architecture.md that do not exist');
  });

  it('the map of src/ has one row for every folder and top-level file', () => {
    const map = doc.slice(doc.indexOf('## Map of `src/`'), doc.indexOf('## Walk: one proxied request'));
    const entries = readdirSync(join(root, 'src')).filter((e) => !e.endsWith('.test.ts'));
    const rows = [...map.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!.replace(/\/$/, ''));
    assert.deepEqual([...rows].sort(), [...entries].sort());
  });
});
