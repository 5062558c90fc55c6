// Runs every *.test.ts under src/, mock-entra/ and test/ with node's test runner.
// Node 20's --test does not expand globs, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'mock-entra', 'test', 'bench'];
const only = process.argv.slice(2);

function collect(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let files = roots.flatMap((r) => {
  try {
    return collect(r);
  } catch {
    return [];
  }
});
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
files.sort();

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
