import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { fetchSite, otherSite, ownSite, siteSent, type FetchSite } from './fetch-metadata.js';

describe('fetchSite', () => {
  const table: [string, IncomingHttpHeaders, FetchSite][] = [
    ['absent', {}, 'absent'],
    ['empty', { 'sec-fetch-site': '' }, 'empty'],
    ['only whitespace', { 'sec-fetch-site': '  ' }, 'empty'],
    ['same-origin', { 'sec-fetch-site': 'same-origin' }, 'same-origin'],
    ['none (typed, bookmarked)', { 'sec-fetch-site': 'none' }, 'none'],
    ['same-site', { 'sec-fetch-site': 'same-site' }, 'same-site'],
    ['cross-site', { 'sec-fetch-site': 'cross-site' }, 'cross-site'],
    ['mixed case', { 'sec-fetch-site': 'Same-Origin' }, 'same-origin'],
    ['padded', { 'sec-fetch-site': ' none ' }, 'none'],
    // node joins a duplicated header with ', ' (req.headers); the list is never one of the four values.
    ['two values joined', { 'sec-fetch-site': 'cross-site, same-origin' }, 'unknown'],
    ['the same value twice', { 'sec-fetch-site': 'same-origin, same-origin' }, 'unknown'],
    ['an unknown value', { 'sec-fetch-site': 'whatever' }, 'unknown'],
  ];
  for (const [name, headers, want] of table) {
    it(`${name} → ${want}`, () => {
      assert.equal(fetchSite(headers), want);
    });
  }

  it('an array (headersDistinct, or headers built by hand) is joined, so never one value', () => {
    const headers = { 'sec-fetch-site': ['same-origin', 'cross-site'] } as unknown as IncomingHttpHeaders;
    assert.equal(fetchSite(headers), 'unknown');
    const one = { 'sec-fetch-site': ['same-origin'] } as unknown as IncomingHttpHeaders;
    assert.equal(fetchSite(one), 'same-origin');
    const none = { 'sec-fetch-site': [] } as unknown as IncomingHttpHeaders;
    assert.equal(fetchSite(none), 'empty');
  });
});

describe('ownSite', () => {
  it('only same-origin and none are our own site', () => {
    const all: FetchSite[] = ['same-origin', 'none', 'same-site', 'cross-site', 'unknown', 'empty', 'absent'];
    assert.deepEqual(
      all.filter((s) => ownSite(s)),
      ['same-origin', 'none'],
    );
  });
});

describe('siteSent and otherSite', () => {
  const all: FetchSite[] = ['same-origin', 'none', 'same-site', 'cross-site', 'unknown', 'empty', 'absent'];
  it('an empty header is not sent; another site is any value sent but our own', () => {
    assert.deepEqual(
      all.filter((s) => !siteSent(s)),
      ['empty', 'absent'],
    );
    assert.deepEqual(
      all.filter((s) => otherSite(s)),
      ['same-site', 'cross-site', 'unknown'],
    );
  });
});
