import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

function readJsonLines(name: string): unknown[] {
  const text = readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => JSON.parse(line) as unknown);
}

/** The hostile redirect targets of `test/fixtures/open-redirects.jsonl`, as the server sees them once decoded. */
export function openRedirectPayloads(): string[] {
  return readJsonLines('open-redirects.jsonl').map((value) => {
    assert.equal(typeof value, 'string');
    return value as string;
  });
}

/** Legitimate targets of `test/fixtures/safe-redirects.jsonl`, each valid under its own ingress path. */
export function safeRedirects(): { ingressPath: string; target: string }[] {
  return readJsonLines('safe-redirects.jsonl') as { ingressPath: string; target: string }[];
}
