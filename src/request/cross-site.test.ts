import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { isCrossSite } from './cross-site.js';

const ORIGINS = new Set(['https://app.example.com', 'http://localhost:7564']);

describe('isCrossSite: Fetch Metadata first, else Origin', () => {
  const table: [string, IncomingHttpHeaders, boolean][] = [
    ['no Fetch Metadata, no Origin (curl, a server)', {}, false],
    ['same-origin', { 'sec-fetch-site': 'same-origin' }, false],
    ['user-initiated (none)', { 'sec-fetch-site': 'none' }, false],
    ['Fetch Metadata in upper case', { 'sec-fetch-site': 'Same-Origin' }, false],
    ['same-site: a sibling subdomain', { 'sec-fetch-site': 'same-site' }, true],
    ['cross-site', { 'sec-fetch-site': 'cross-site' }, true],
    ['a duplicated Sec-Fetch-Site', { 'sec-fetch-site': 'same-origin, cross-site' }, true],
    ['an unknown Sec-Fetch-Site value', { 'sec-fetch-site': 'whatever' }, true],
    ['empty Sec-Fetch-Site, ingress Origin', { 'sec-fetch-site': '', origin: 'https://app.example.com' }, true],
    ['Fetch Metadata decides over Origin', { 'sec-fetch-site': 'same-origin', origin: 'https://x.example' }, false],
    ['an ingress Origin', { origin: 'https://app.example.com' }, false],
    ['another ingress Origin', { origin: 'http://localhost:7564' }, false],
    ['an Origin in upper case', { origin: 'HTTPS://APP.EXAMPLE.COM' }, false],
    ['a foreign Origin', { origin: 'https://evil.example' }, true],
    ['a sibling subdomain Origin', { origin: 'https://other.example.com' }, true],
    ['the ingress host on another scheme', { origin: 'http://app.example.com' }, true],
    ['the ingress host on another port', { origin: 'https://app.example.com:8443' }, true],
    ['Origin: null (sandboxed frame, data: URL)', { origin: 'null' }, true],
    ['an empty Origin', { origin: '' }, true],
  ];
  for (const [name, headers, want] of table) {
    it(`${name} → ${want ? 'cross-site' : 'not cross-site'}`, () => {
      assert.equal(isCrossSite(headers, ORIGINS), want);
    });
  }
});
