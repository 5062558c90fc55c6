// Writes docs/configuration.md from the settings table and docs/errors.md from the error registry; with
// --check, exits 1 when either file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../src/config/docs.js';
import { errorsMarkdown } from '../src/errors/docs.js';

const docs: readonly { name: string; want: string }[] = [
  { name: 'configuration.md', want: configurationMarkdown() },
  { name: 'errors.md', want: errorsMarkdown() },
];
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
