// Writes docs/configuration.md from the settings table; with --check, exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../src/config/docs.js';

const path = new URL('../docs/configuration.md', import.meta.url);
const want = configurationMarkdown();
if (process.argv.includes('--check')) {
  let have = '';
  try {
    have = readFileSync(path, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (have !== want) {
    console.error('docs/configuration.md is out of date: run npm run docs');
    process.exit(1);
  }
} else {
  writeFileSync(path, want);
}
