import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { openRedirectPayloads, safeRedirects } from './redirect-fixtures.js';

/** The data lines of a fixture file, read independently of the helper. */
function dataLines(name: string): string[] {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

describe('redirect fixtures', () => {
  it('openRedirectPayloads: one decoded string per data line of open-redirects.jsonl, comments skipped', () => {
    const payloads = openRedirectPayloads();
    const lines = dataLines('open-redirects.jsonl');
    assert.ok(payloads.length >= 1000, `only ${payloads.length} payloads`);
    assert.equal(payloads.length, lines.length);
    assert.deepEqual(
      payloads.slice(0, 5),
      lines.slice(0, 5).map((l) => JSON.parse(l) as string),
    );
    assert.equal(payloads.at(-1), JSON.parse(lines.at(-1) ?? '') as string);
    assert.ok(payloads.every((p) => typeof p === 'string'));
    const comments = readFileSync(new URL('../fixtures/open-redirects.jsonl', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('#'));
    assert.ok(comments.length > 0, 'control: the file has comment lines');
    for (const c of comments) assert.ok(!payloads.includes(c) && !payloads.includes(c.slice(1).trim()), c);
    assert.ok(payloads.includes('//evil.com'), 'the protocol-relative classic is in');
  });

  it('safeRedirects: an ingress path and a target per line of safe-redirects.jsonl', () => {
    const safe = safeRedirects();
    assert.equal(safe.length, dataLines('safe-redirects.jsonl').length);
    assert.ok(safe.length >= 10);
    for (const s of safe) {
      assert.equal(typeof s.ingressPath, 'string');
      assert.equal(typeof s.target, 'string');
      assert.ok(s.ingressPath.startsWith('/'), s.ingressPath);
      assert.ok(s.target.startsWith('/'), `a relative target: ${s.target}`);
    }
    assert.ok(new Set(safe.map((s) => s.ingressPath)).size >= 2, 'targets for more than one ingress path');
  });
});
