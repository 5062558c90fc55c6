// Writes docs/configuration.md from the settings table, docs/errors.md from the error registry and the
// compatibility table of docs/migrating.md (between its settings markers; the rest of that file is written by
// hand); with --check, exits 1 when any is out of date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { configurationMarkdown, migratingMarkdown } from '../src/config/docs.js';
import { errorsMarkdown } from '../src/errors/docs.js';

const docs: readonly { name: string; want: string }[] = [
  { name: 'configuration.md', want: configurationMarkdown() },
  { name: 'errors.md', want: errorsMarkdown() },
  { name: 'migrating.md', want: migratingMarkdown(readIfThere(new URL('../docs/migrating.md', import.meta.url))) },
];

function readIfThere(path: URL): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
const check = process.argv.includes('--check');
let stale = false;
for (const { name, want } of docs) {
  const path = new URL(`../docs/${name}`, import.meta.url);
  if (!check) {
    writeFileSync(path, want);
    continue;
  }
  let have = '';
  try {
    have = readFileSync(path, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (have !== want) {
    console.error(`docs/${name} is out of date: run npm run docs`);
    stale = true;
  }
}
if (stale) process.exit(1);
