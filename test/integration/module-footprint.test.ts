import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '../..');

/** The CommonJS files of node_modules that importing vestibule's modules loads, relative to node_modules. */
function loadedPackageFiles(modules: readonly string[]): string[] {
  const script = [
    `for (const m of ${JSON.stringify(modules)}) await import(m);`,
    "const { createRequire } = await import('node:module');",
    'const cache = createRequire(import.meta.url).cache;',
    "process.stdout.write(JSON.stringify(Object.keys(cache).filter((k) => k.includes('/node_modules/'))));",
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  return (JSON.parse(out) as string[]).map((k) => k.slice(k.lastIndexOf('/node_modules/') + '/node_modules/'.length));
}

describe('what vestibule loads', () => {
  it("holds undici's Pool only, not the whole package (fetch, WebSocket, caches: ~3 MB of heap for good)", () => {
    // Everything src/main.ts imports (importing main.ts itself would start the server).
    const files = loadedPackageFiles([
      './src/app.ts',
      './src/config/help.ts',
      './src/config/load.ts',
      './src/observability/fetch-metrics.ts',
      './src/observability/logger.ts',
      './src/observability/metrics.ts',
      './src/oidc/provider.ts',
      './src/session/create-store.ts',
    ]);
    assert.ok(files.includes('undici/lib/dispatcher/pool.js'), 'the forwarder loads the Pool');
    assert.ok(
      files.some((f) => f.startsWith('fastify/')),
      'the check sees the CommonJS packages that load',
    );
    assert.deepEqual(
      files.filter((f) => f === 'undici/index.js' || f.startsWith('undici/lib/web/')),
      [],
      'undici index or its web APIs loaded',
    );
  });
});
