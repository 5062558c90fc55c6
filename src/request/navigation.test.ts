import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loginResponseKind, wantsJson } from './navigation.js';

// Node types most headers as plain strings, but duplicates and HTTP/2 can hand over arrays.
type RawHeaders = Record<string, string | string[]>;
const navigate: RawHeaders = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

describe('loginResponseKind', () => {
  it('answers every method but GET with 401, even for a browser navigation', () => {
    for (const method of ['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'get', '']) {
      assert.equal(loginResponseKind(method, navigate), 'unauthorized', method);
      assert.equal(loginResponseKind(method, { accept: 'text/html' }), 'unauthorized', method);
    }
    assert.equal(loginResponseKind('GET', navigate), 'redirect');
  });

  const fetchMetadata: [string, RawHeaders, 'redirect' | 'unauthorized'][] = [
    ['navigate + document', navigate, 'redirect'],
    ['odd case', { 'sec-fetch-mode': 'Navigate', 'sec-fetch-dest': ' DOCUMENT ' }, 'redirect'],
    ['fetch() from a page', { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }, 'unauthorized'],
    ['same-origin fetch', { 'sec-fetch-mode': 'same-origin', 'sec-fetch-dest': 'empty' }, 'unauthorized'],
    ['iframe navigation', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }, 'unauthorized'],
    ['image', { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }, 'unauthorized'],
    ['navigate to a non-document', { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'empty' }, 'unauthorized'],
    ['document without navigate', { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'document' }, 'unauthorized'],
    ['only mode, navigate', { 'sec-fetch-mode': 'navigate' }, 'redirect'],
    ['only mode, cors', { 'sec-fetch-mode': 'cors' }, 'unauthorized'],
    ['only dest, document', { 'sec-fetch-dest': 'document' }, 'redirect'],
    ['only dest, empty', { 'sec-fetch-dest': 'empty' }, 'unauthorized'],
    // Fetch metadata wins over Accept: a fetch() asking for HTML is still not a navigation.
    ['cors fetch accepting html', { 'sec-fetch-mode': 'cors', accept: 'text/html' }, 'unauthorized'],
    ['only mode, accept json', { 'sec-fetch-mode': 'navigate', accept: 'application/json' }, 'redirect'],
    [
      'duplicated mode header',
      { 'sec-fetch-mode': ['navigate', 'navigate'], 'sec-fetch-dest': 'document' },
      'unauthorized',
    ],
    [
      'duplicated mode joined',
      { 'sec-fetch-mode': 'navigate, navigate', 'sec-fetch-dest': 'document' },
      'unauthorized',
    ],
    ['array with one value', { 'sec-fetch-mode': ['navigate'], 'sec-fetch-dest': ['document'] }, 'redirect'],
    // Wonderwall's tests send empty fetch headers to mean "absent": Accept decides.
    ['empty fetch headers, html', { 'sec-fetch-mode': '', 'sec-fetch-dest': ' ', accept: 'text/html' }, 'redirect'],
    ['empty fetch headers, json', { 'sec-fetch-mode': '', 'sec-fetch-dest': '', accept: '*/*' }, 'unauthorized'],
  ];
  for (const [name, headers, expected] of fetchMetadata) {
    it(`fetch metadata: ${name} → ${expected}`, () => {
      assert.equal(loginResponseKind('GET', headers), expected);
    });
  }

  // Wonderwall's "navigation request without fetch metadata" table plus the q=0 and negative cases.
  const accept: [string, string | string[] | undefined, 'redirect' | 'unauthorized'][] = [
    ['happy path', 'text/html', 'redirect'],
    ['multiple values', 'application/xhtml+xml, application/xml, text/html', 'redirect'],
    [
      'multiple accept headers',
      ['application/xhtml+xml, application/xml;q=0.9', 'text/plain', 'text/html'],
      'redirect',
    ],
    ['non-canonical value', ', text/HTML ', 'redirect'],
    ['with quality parameter', 'text/html;q=0.9', 'redirect'],
    ['quality with spaces', 'text/html ; Q = 0.5', 'redirect'],
    ['browser default', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'redirect'],
    ['q=0 is a refusal', 'text/html;q=0', 'unauthorized'],
    ['q=0.000 is a refusal', 'text/html; q=0.000', 'unauthorized'],
    ['q=0 then acceptable elsewhere', ['text/html;q=0', 'text/html;level=1'], 'redirect'],
    ['q=0.001 is acceptable', 'text/html;q=0.001', 'redirect'],
    ['wildcard alone', '*/*', 'unauthorized'],
    ['text wildcard', 'text/*', 'unauthorized'],
    ['xhtml only', 'application/xhtml+xml', 'unauthorized'],
    ['html as a parameter', 'application/json;type=text/html', 'unauthorized'],
    ['prefix of html', 'text/htmlx', 'unauthorized'],
    ['json', 'application/json', 'unauthorized'],
    ['empty', '', 'unauthorized'],
    ['absent', undefined, 'unauthorized'],
    ['empty array', [], 'unauthorized'],
  ];
  for (const [name, value, expected] of accept) {
    it(`accept without fetch metadata: ${name} → ${expected}`, () => {
      const headers: RawHeaders = value === undefined ? {} : { accept: value };
      assert.equal(loginResponseKind('GET', headers), expected);
    });
  }

  it('never redirects an XMLHttpRequest', () => {
    for (const xrw of ['XMLHttpRequest', 'xmlhttprequest', ' XMLHttpRequest ', ['other', 'XMLHttpRequest']]) {
      assert.equal(loginResponseKind('GET', { ...navigate, 'x-requested-with': xrw }), 'unauthorized');
      assert.equal(loginResponseKind('GET', { accept: 'text/html', 'x-requested-with': xrw }), 'unauthorized');
    }
    assert.equal(loginResponseKind('GET', { ...navigate, 'x-requested-with': 'com.example.app' }), 'redirect');
  });
});

describe('wantsJson', () => {
  const table: [string, string | string[] | undefined, boolean][] = [
    ['absent', undefined, true],
    ['empty', '', true],
    ['blank array', ['', ' '], true],
    ['json', 'application/json', true],
    ['json with charset', 'Application/JSON; charset=utf-8', true],
    ['wildcard', '*/*', true],
    ['fetch default', 'application/json, text/plain, */*', true],
    ['browser navigation', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['json in a second header', ['text/plain', 'application/json'], true],
    ['html only', 'text/html', false],
    ['plain text', 'text/plain', false],
    ['application wildcard', 'application/*', false],
    ['problem+json', 'application/problem+json', false],
    ['json refused', 'application/json;q=0, text/plain', false],
    ['wildcard refused', '*/*;q=0', false],
  ];
  for (const [name, value, expected] of table) {
    it(`${name} → ${expected}`, () => {
      const headers: RawHeaders = value === undefined ? {} : { accept: value };
      assert.equal(wantsJson(headers), expected);
    });
  }
});
