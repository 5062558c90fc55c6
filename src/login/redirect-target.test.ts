import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSafeRedirectTarget, MAX_TARGET_LENGTH, resolveRedirectTarget } from './redirect-target.js';

const BASE = 'https://ingress.invalid';
const INGRESS_PATHS = ['/', '/app', '/team/app'];

function readJsonLines(name: string): unknown[] {
  const text = readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => JSON.parse(line) as unknown);
}

const hostile = readJsonLines('open-redirects.jsonl').map((value) => {
  assert.equal(typeof value, 'string');
  return value as string;
});

const safe = readJsonLines('safe-redirects.jsonl') as { ingressPath: string; target: string }[];

function isUnder(pathname: string, ingressPath: string): boolean {
  return ingressPath === '/' || pathname === ingressPath || pathname.startsWith(`${ingressPath}/`);
}

describe('open-redirects.jsonl corpus', () => {
  it('holds at least 600 distinct payloads', () => {
    assert.ok(hostile.length >= 600, `only ${hostile.length} payloads`);
    assert.equal(new Set(hostile).size, hostile.length);
  });

  for (const ingressPath of INGRESS_PATHS) {
    it(`resolveRedirectTarget() returns the fallback for every payload under ${ingressPath}`, () => {
      const leaked = hostile.filter((payload) => resolveRedirectTarget(payload, ingressPath) !== ingressPath);
      assert.deepEqual(leaked, []);
      const leakedCustom = hostile.filter(
        (payload) => resolveRedirectTarget(payload, ingressPath, '/home') !== '/home',
      );
      assert.deepEqual(leakedCustom, []);
    });
  }
});

describe('safe-redirects.jsonl corpus', () => {
  it('holds at least 40 entries over several ingress paths', () => {
    assert.ok(safe.length >= 40, `only ${safe.length} entries`);
    assert.deepEqual([...new Set(safe.map((entry) => entry.ingressPath))].sort(), ['/', '/app', '/team/app']);
  });

  for (const { ingressPath, target } of safe) {
    const label = target.length > 60 ? `${target.slice(0, 40)}… (${target.length} chars)` : target;
    it(`resolveRedirectTarget() keeps ${JSON.stringify(label)} under ${ingressPath}`, () => {
      assert.equal(isSafeRedirectTarget(target, ingressPath), true);
      assert.equal(resolveRedirectTarget(target, ingressPath, '/fallback'), target);
    });
  }
});

describe('resolveRedirectTarget() classics', () => {
  const rejected: [name: string, raw: unknown, ingressPath: string][] = [
    ['protocol-relative //evil.com', '//evil.com', '/'],
    ['backslash after slash /\\evil.com (CVE-2020-5233)', '/\\evil.com', '/'],
    ['backslash first \\/evil.com', '\\/evil.com', '/'],
    ['encoded tab between slashes /%09/evil.com (CVE-2020-11053)', '/%09/evil.com', '/'],
    ['encoded slashes /%2F%2Fevil.com', '/%2F%2Fevil.com', '/'],
    ['double-encoded slashes /%252F%252Fevil.com', '/%252F%252Fevil.com', '/'],
    ['absolute https://evil.com', 'https://evil.com', '/'],
    ['scheme without slashes https:evil.com', 'https:evil.com', '/'],
    ['userinfo https://ingress.invalid@evil.com', 'https://ingress.invalid@evil.com', '/'],
    ['javascript:alert(1)', 'javascript:alert(1)', '/'],
    ['data: URL', 'data:text/html,<script>alert(1)</script>', '/'],
    ['CRLF header injection', '/app\r\nSet-Cookie:x=y', '/app'],
    ['encoded CRLF in the path', '/app/%0d%0aSet-Cookie:x=y', '/app'],
    ['NUL in the query', '/app?x=\u0000', '/app'],
    ['sibling path /apple under /app', '/apple', '/app'],
    ['parent path / under /app', '/', '/app'],
    ['case variant /APP under /app', '/APP/x', '/app'],
    ['dot segments /app/../evil', '/app/../evil', '/app'],
    ['encoded dot segments /app/%2e%2e/evil', '/app/%2e%2e/evil', '/app'],
    ['Tomcat path parameter /app/..;/evil', '/app/..;/evil', '/app'],
    ['overlong UTF-8 dots /app/%c0%ae%c0%ae/', '/app/%c0%ae%c0%ae/evil', '/app'],
    ['raw fullwidth solidus /／evil.com', '/\uff0fevil.com', '/'],
    ['encoded division slash /%E2%88%95evil.com', '/%E2%88%95evil.com', '/'],
    ['encoded two-dot leader /app/%E2%80%A5/evil (NFKC folds it to ..)', '/app/%E2%80%A5/evil', '/app'],
    ['encoded ideographic full stops /app/%E3%80%82%E3%80%82/', '/app/%E3%80%82%E3%80%82/evil', '/app'],
    ['zero-width space in the query', '/app?x=\u200b', '/app'],
    ['encoded bidi override in the path', '/app/%E2%80%AEmoc.live', '/app'],
    ['encoded space in the path (no whitespace after decoding)', '/app/a%20b', '/app'],
    ['malformed percent /app/%zz', '/app/%zz', '/app'],
    ['empty string', '', '/'],
    ['relative path without slash', 'app/page', '/'],
    ['undefined (parameter absent)', undefined, '/app'],
    ['null', null, '/app'],
    ['array (duplicated parameter)', ['/app/a', '/app/b'], '/app'],
    ['number', 42, '/'],
    ['object with a safe toString()', { toString: () => '/app' }, '/app'],
    [`${MAX_TARGET_LENGTH + 1} characters`, `/app/${'a'.repeat(MAX_TARGET_LENGTH - 4)}`, '/app'],
  ];

  for (const [name, raw, ingressPath] of rejected) {
    it(`rejects ${name}`, () => {
      assert.equal(isSafeRedirectTarget(raw, ingressPath), false);
      assert.equal(resolveRedirectTarget(raw, ingressPath), ingressPath);
      assert.equal(resolveRedirectTarget(raw, ingressPath, '/home'), '/home');
    });
  }

  const accepted: [name: string, raw: string, ingressPath: string][] = [
    ['the ingress root itself', '/app', '/app'],
    ['a nested page with query and fragment', '/app/a/b?c=d#e', '/app'],
    ['a URL in the query (cannot change the host)', '/app/path?next=https://evil.com', '/app'],
    ['any path under the root ingress', '/apple', '/'],
    ['a name encoded three times', '/app/%252541', '/app'],
    [`exactly ${MAX_TARGET_LENGTH} characters`, `/app/${'a'.repeat(MAX_TARGET_LENGTH - 5)}`, '/app'],
  ];

  for (const [name, raw, ingressPath] of accepted) {
    it(`accepts ${name}`, () => {
      assert.equal(resolveRedirectTarget(raw, ingressPath, '/fallback'), raw);
    });
  }

  it('rejects a 100k-character target', () => {
    assert.equal(resolveRedirectTarget(`/app/${'%2e%2e/'.repeat(20_000)}`, '/app'), '/app');
  });

  it('rejects nesting deeper than the decoding limit at maximum length', () => {
    // Fully decoded this is the harmless `/app/A`; it is rejected only because it needs 1020 rounds.
    const nested = `/app/%${'25'.repeat((MAX_TARGET_LENGTH - 8) / 2)}41`;
    assert.equal(nested.length <= MAX_TARGET_LENGTH, true);
    assert.equal(resolveRedirectTarget(nested, '/app'), '/app');
  });
});

describe('isSafeRedirectTarget() ingress path', () => {
  for (const bad of ['', 'app', '/app/', '//app', '/app/../x', '/a b', '/app?x', '/%61pp']) {
    it(`throws TypeError for ingress path ${JSON.stringify(bad)}`, () => {
      assert.throws(() => isSafeRedirectTarget('/app', bad), {
        name: 'TypeError',
        message: `Ingress path "${bad}" must be "/" or a path like "/app" without trailing slash`,
      });
    });
  }
});

describe('resolveRedirectTarget() properties', () => {
  const tokens = [
    '/',
    '//',
    '\\',
    '.',
    '..',
    '%',
    '%2e',
    '%2E',
    '%2f',
    '%2F',
    '%5c',
    '%25',
    '%09',
    '%0a',
    '%00',
    '%E3%80%82',
    '%EF%BC%8F',
    '%C0%AF',
    '?',
    '#',
    ':',
    '@',
    ';',
    'app',
    'apple',
    'evil.com',
    'https:',
    'javascript:',
    ' ',
    '\t',
    '\r\n',
    '\u0000',
    '\uff0f',
    '\u3002',
    '\u200b',
    '\u2028',
    'a',
    'x=1',
  ];
  const tokenString = fc
    .tuple(
      fc.constantFrom('', '/app', '/app/', '/team/app/', '/'),
      fc.array(fc.constantFrom(...tokens), { maxLength: 12 }),
    )
    .map(([prefix, parts]) => prefix + parts.join(''));
  const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 80 }), tokenString);

  it('returns the fallback or a target that stays on the ingress origin and path, and never throws', () => {
    fc.assert(
      fc.property(anyString, fc.constantFrom(...INGRESS_PATHS), (raw, ingressPath) => {
        const result = resolveRedirectTarget(raw, ingressPath, '/fallback');
        if (result === '/fallback') return;
        assert.equal(result, raw);
        const url = new URL(result, BASE);
        assert.equal(url.origin, BASE);
        assert.ok(isUnder(url.pathname, ingressPath), `${JSON.stringify(raw)} left ${ingressPath}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only printable ASCII without dot segments once decoded', () => {
    fc.assert(
      fc.property(tokenString, (raw) => {
        if (!isSafeRedirectTarget(raw, '/')) return;
        assert.match(raw, /^[\x21-\x7e]+$/);
        const path = decodeURIComponent(raw.split(/[?#]/)[0]!);
        assert.ok(!path.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(path), `${JSON.stringify(raw)} decodes to ${path}`);
      }),
      { numRuns: 2000 },
    );
  });
});
