import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { privateAnswer } from './private-answer.js';

const field = (headers: string[], name: string): string | undefined => {
  const i = headers.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === name);
  return i === -1 ? undefined : headers[i + 1];
};

describe('privateAnswer: an answer with our Set-Cookie is kept out of shared caches', () => {
  const table: [string, string[], string, string][] = [
    ['no caching headers', [], 'private', 'Cookie'],
    [
      'public and s-maxage dropped, the rest kept',
      ['Cache-Control', 'public, max-age=60, s-maxage=600'],
      'private, max-age=60',
      'Cookie',
    ],
    [
      'a qualified private becomes plain private',
      ['cache-control', 'private="set-cookie", max-age=5'],
      'private, max-age=5',
      'Cookie',
    ],
    ['no-store kept', ['cache-control', 'no-store'], 'private, no-store', 'Cookie'],
    [
      'quoted commas are one directive',
      ['cache-control', 'no-cache="a, b", public'],
      'private, no-cache="a, b"',
      'Cookie',
    ],
    [
      'repeated fields merged',
      ['cache-control', 'public', 'Cache-Control', 'S-MAXAGE=1, immutable'],
      'private, immutable',
      'Cookie',
    ],
    ['Vary extended', ['Vary', 'Accept-Encoding'], 'private', 'Accept-Encoding, Cookie'],
    ['Vary: Cookie not repeated', ['vary', 'cookie, Accept'], 'private', 'cookie, Accept'],
    ['Vary: * kept', ['vary', '*'], 'private', '*'],
  ];
  for (const [name, headers, cacheControl, vary] of table) {
    it(name, () => {
      const out = privateAnswer(['content-type', 'text/html', ...headers]);
      assert.equal(field(out, 'cache-control'), cacheControl);
      assert.equal(field(out, 'vary'), vary);
      assert.equal(field(out, 'content-type'), 'text/html');
      assert.equal(out.filter((h, i) => i % 2 === 0 && /^(cache-control|vary)$/i.test(h)).length, 2);
    });
  }
});

describe('privateAnswer: headers a CDN obeys over Cache-Control', () => {
  it('drops CDN-Cache-Control (and vendor forms), Surrogate-Control and Edge-Control, keeps the rest', () => {
    const out = privateAnswer([
      'CDN-Cache-Control',
      'public, max-age=600',
      'Cloudflare-CDN-Cache-Control',
      'max-age=600',
      'Surrogate-Control',
      'max-age=600',
      'Edge-Control',
      'cache-maxage=600s',
      'Cache-Control',
      'public, max-age=60',
      'ETag',
      '"v1"',
    ]);
    for (const name of ['cdn-cache-control', 'cloudflare-cdn-cache-control', 'surrogate-control', 'edge-control'])
      assert.equal(field(out, name), undefined, name);
    assert.equal(field(out, 'cache-control'), 'private, max-age=60');
    assert.equal(field(out, 'etag'), '"v1"');
  });
});
