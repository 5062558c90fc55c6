import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compilePathGlobs, normalizePath } from './path-match.js';

describe('normalizePath', () => {
  const table: [string, string | null][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b'],
    ['//a///b', '/a/b'],
    ['/a/./b/../c', '/a/c'],
    ['/..', '/'],
    ['/../../a', '/a'],
    ['/a/..', '/'],
    ['/a/b/..', '/a'],
    ['/a/.', '/a'],
    ['/.well-known/openid-configuration', '/.well-known/openid-configuration'],
    ['/a/...', '/a/...'],
    ['/a/..b', '/a/..b'],
    ['/Public/API', '/Public/API'],
    // parameters
    ['/a;jsessionid=1/b', '/a/b'],
    ['/private;x=/public', '/private/public'],
    ['/a;x;y=2', '/a'],
    ['/;x', '/'],
    ['/a/%3Bx', '/a/%3Bx'],
    // percent-encoding
    ['/%61%62%63', '/abc'],
    ['/%7e%2D%5f%2E', '/~-_.'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/%25', '/%25'],
    ['/%252e%252e', '/%252e%252e'],
    ['/a/%2e%2e/b', '/b'],
    ['/a/.%2E/b', '/b'],
    ['/a/%2e', '/a'],
    ['/a%2fb', null],
    ['/a%2Fb', null],
    ['/a%5cb', null],
    ['/a%5Cb', null],
    ['/a%00', null],
    ['/a%', null],
    ['/a%4', null],
    ['/a%zz', null],
    ['/a%%41', null],
    ['/a;x=%2F/b', null],
    ['/a;x=%/b', null],
    // raw characters
    ['/a|b', '/a%7Cb'],
    ['/a%7cb', '/a%7Cb'],
    ['/a#b', null],
    ['/a%23b', '/a%23b'],
    ['/["x"]', '/%5B%22x%22%5D'],
    ["/!$&'()*+,=:@", "/!$&'()*+,=:@"],
    ['/a\\b', null],
    ['/a b', null],
    ['/a\tb', null],
    ['/a\nb', null],
    ['/a\u007fb', null],
    ['/caf\u00e9', null],
    ['/\u{1F600}', null],
    // ambiguous combinations of dot segments with empty segments or parameters
    ['/private/..;/public', null],
    ['/a/.;x/b', null],
    ['/a/%2e%2e;/b', null],
    ['/private//../public', null],
    ['/private/;/../public', null],
    ['//a/../b', null],
    ['/a;x/../b', '/b'],
    ['/a//./b', '/a/b'],
    // not an origin-form path
    ['', null],
    ['*', null],
    ['a/b', null],
    ['http://host/a', null],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  it('returns the same string when the path is already canonical', () => {
    const path = '/api/v1/items/42';
    assert.equal(normalizePath(path), path);
  });

  it('handles huge paths in one pass', () => {
    const deep = '/a'.repeat(50_000);
    assert.equal(normalizePath(deep), deep);
    assert.equal(normalizePath('/' + '%2e%2e/'.repeat(20_000) + 'x'), '/x');
    assert.equal(normalizePath('/' + 'a/'.repeat(20_000) + '../'.repeat(20_000) + 'b'), '/b');
  });

  const pathChars = fc.constantFrom(
    ...'/./../;=%2e%2E%2f%5c%00%c3%a9%41%zz%\\ #?|aZ0-_~@:!'.split(''),
    '/',
    '/',
    '.',
    '..',
    '%2e',
    '%2F',
    ';',
    'a',
    'b',
    '%',
    '\u00e9',
    '\u0000',
  );
  const rawPaths = fc.oneof(
    fc.array(pathChars, { maxLength: 40 }).map((parts) => '/' + parts.join('')),
    fc.string({ maxLength: 40 }),
    fc.string({ maxLength: 40, unit: 'binary' }).map((s) => '/' + s),
  );

  it('never throws; results are canonical and idempotent (property)', () => {
    fc.assert(
      fc.property(rawPaths, (raw) => {
        const result = normalizePath(raw);
        if (result === null) return;
        assert.ok(result.startsWith('/'), result);
        assert.ok(!result.includes('//'), result);
        assert.ok(!result.includes(';'), result);
        assert.ok(result === '/' || !result.endsWith('/'), result);
        for (const segment of result.split('/').slice(1)) {
          assert.ok(segment !== '.' && segment !== '..', result);
        }
        assert.equal(normalizePath(result), result);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('compilePathGlobs', () => {
  // Wonderwall's "auto-login and ignored paths" matrix (pkg/handler/reverseproxy_test.go), run on normalised
  // request paths. Wonderwall's extra "" case is the same request as "/" on the wire.
  const matrix: Record<string, { match: string[]; nonMatch: string[] }> = {
    '/': { match: ['/'], nonMatch: ['/a', '/a/b'] },
    '/exact/match': { match: ['/exact/match', '/exact/match/'], nonMatch: ['/exact/match/huh'] },
    '/allowed': {
      match: ['/allowed', '/allowed/'],
      nonMatch: ['/allowe', '/allowed/no', '/not-allowed', '/not-allowed/allowed'],
    },
    '/wildcard/*': {
      match: ['/wildcard/very', '/wildcard/very/'],
      nonMatch: ['/wildcard', '/wildcard/', '/wildcard/yup/nope'],
    },
    '/deeper/*/*': {
      match: ['/deeper/1/2', '/deeper/1/2/'],
      nonMatch: ['/deeper', '/deeper/', '/deeper/1', '/deeper/1/', '/deeper/1/2/3'],
    },
    '/any*': {
      match: ['/any', '/any/', '/anything', '/anything/', '/anywho', '/anywho/'],
      nonMatch: ['/any/thing', '/any/thing/', '/anywho/mst/ve'],
    },
    '/trailing/': { match: ['/trailing', '/trailing/'], nonMatch: ['/trailing/path', '/trailing/path/'] },
    '/nested/**': {
      match: ['/nested', '/nested/', '/nested/very', '/nested/very/deep', '/nested/very/deep/deeper'],
      nonMatch: ['/not/nested', '/not/nested/very'],
    },
    '/static/**/*.js': {
      match: ['/static/bundle.js', '/static/min/bundle.js', '/static/vendor/min/bundle.js'],
      nonMatch: [
        '/static',
        '/static/',
        '/static/some.css',
        '/static/min',
        '/static/min/',
        '/static/min/some.css',
        '/static/vendor/min/some.css',
      ],
    },
    '/**': { match: ['/', '/a', '/a/b/c'], nonMatch: [] },
    '/*': { match: ['/', '/a'], nonMatch: ['/a/b'] },
    '/static/*': { match: ['/static/a'], nonMatch: ['/static', '/static/a/b'] },
    '/**/*.js': { match: ['/a.js', '/x/y/a.js', '/.js'], nonMatch: ['/', '/a.jsx', '/a.js/b'] },
    '/a/**/b/**/c': { match: ['/a/b/c', '/a/x/b/y/z/c', '/a/b/b/c'], nonMatch: ['/a/c', '/a/b/c/d', '/b/c'] },
    '/*a*b*': { match: ['/ab', '/xaybz', '/aab'], nonMatch: ['/ba', '/a', '/a/b'] },
    '/a**b': { match: ['/ab', '/axxb'], nonMatch: ['/a/b', '/a/x/b'] },
    '/{api,static}/**': { match: ['/api', '/static/x', '/api/a/b'], nonMatch: ['/apis', '/stat'] },
    '/static/**/*.{js,css}': { match: ['/static/a.css', '/static/x/a.js'], nonMatch: ['/static/a.png'] },
    '/a{,/b}': { match: ['/a', '/a/b'], nonMatch: ['/a/c'] },
    '/caf\u00e9': { match: ['/caf%C3%A9', '/caf%c3%a9/'], nonMatch: ['/cafe', '/caf%C3%A9x'] },
    '/%7euser/*': { match: ['/~user/x', '/%7Euser/x'], nonMatch: ['/%7Euser'] },
    '/a b': { match: ['/a%20b'], nonMatch: ['/a%2520b'] },
    '/a|b': { match: ['/a|b', '/a%7cb'], nonMatch: ['/a'] },
    '/lit\\*': { match: ['/lit*'], nonMatch: ['/lit', '/litx'] },
    '/x\\{y\\}': { match: ['/x%7By%7D', '/x{y}'], nonMatch: ['/xy'] },
    // A wildcard never ends inside an escape: "%C3%A9" does not end with "9" here.
    '/*9': { match: ['/9', '/a9', '/%C3%A99'], nonMatch: ['/%C3%A9', '/a%29'] },
    '/*A9*': { match: ['/A9', '/xA9y'], nonMatch: ['/%C3%A9', '/%A9'] },
  };
  for (const [pattern, { match, nonMatch }] of Object.entries(matrix)) {
    const matches = compilePathGlobs([pattern]);
    it(`${pattern} matches ${JSON.stringify(match)}`, () => {
      for (const path of match) assert.equal(matches(normalizePath(path)), true, path);
    });
    it(`${pattern} does not match ${JSON.stringify(nonMatch)}`, () => {
      for (const path of nonMatch) assert.equal(matches(normalizePath(path)), false, path);
    });
  }

  it('matches when any of several patterns matches, and never matches null', () => {
    const matches = compilePathGlobs(['/favicon.ico', '/robots.txt', '/public/**']);
    assert.equal(matches('/favicon.ico'), true);
    assert.equal(matches('/robots.txt'), true);
    assert.equal(matches('/public/x'), true);
    assert.equal(matches('/private'), false);
    assert.equal(matches(null), false);
    assert.equal(compilePathGlobs(['/**'])(null), false);
    assert.equal(compilePathGlobs([])('/'), false);
  });

  // Skip-route bypass battery (peers.md §4.4): none of these may be exempt under rules for /public.
  describe('bypass battery', () => {
    const exact = compilePathGlobs(['/public']);
    const tree = compilePathGlobs(['/public/**']);
    const exempt = (raw: string): [boolean, boolean] => {
      const path = normalizePath(raw);
      return [exact(path), tree(path)];
    };
    const cases: [string, string | null, boolean, boolean][] = [
      // raw request path (query already cut by the caller), its canonical form, exempt by /public, by /public/**
      ['/private', '/private', false, false],
      ['/public/../private', '/private', false, false],
      ['/public/%2e%2e/private', '/private', false, false],
      ['/public/%2E%2E/private', '/private', false, false],
      ['/public/.%2e/private', '/private', false, false],
      ['/public%2F..%2Fprivate', null, false, false],
      ['/public%2f..%2fprivate', null, false, false],
      ['/public%5C..%5Cprivate', null, false, false],
      ['/public\\..\\private', null, false, false],
      ['/public/..;/private', null, false, false],
      ['/public/;/../private', null, false, false],
      ['/public//../private', null, false, false],
      ['/public%00/x', null, false, false],
      ['/PUBLIC', '/PUBLIC', false, false],
      ['/Public/x', '/Public/x', false, false],
      ['/public#/x', null, false, false],
      ['/public%23/x', '/public%23/x', false, false],
      ['/publicx', '/publicx', false, false],
      ['/public%20', '/public%20', false, false],
      ['/public%2e', '/public.', false, false],
      // legitimate spellings of the public paths stay exempt
      ['/public', '/public', true, true],
      ['//public', '/public', true, true],
      ['/public/', '/public', true, true],
      ['/public;x=1', '/public', true, true],
      ['/public;jsessionid=1/a', '/public/a', false, true],
      ['/%70ublic', '/public', true, true],
      ['/public/./a', '/public/a', false, true],
      ['/private/../public', '/public', true, true],
    ];
    for (const [raw, canonical, byExact, byTree] of cases) {
      it(raw, () => {
        assert.equal(normalizePath(raw), canonical);
        assert.deepEqual(exempt(raw), [byExact, byTree]);
      });
    }

    it('never exempts what the caller did not strip: the query stays outside the path', () => {
      // The caller cuts at the first '?', so "/private?x=/public" reaches the matcher as "/private".
      assert.equal(exact(normalizePath('/private')), false);
      // Even if a caller forgot to cut, the '?' is encoded and cannot create a '/public' segment boundary.
      assert.equal(normalizePath('/private?x=/public'), '/private%3Fx=/public');
      assert.equal(tree(normalizePath('/private?x=/public')), false);
    });
  });

  describe('invalid patterns', () => {
    const invalid = [
      '',
      'public',
      '*/x',
      '**',
      '//',
      '/a//b',
      '/a/./b',
      '/a/../b',
      '/%2e%2e',
      '/a;b',
      '/a%2Fb',
      '/a%5cb',
      '/a%00',
      '/a%',
      '/a%g1',
      '/a?',
      '/[ab]',
      '/a]',
      '/{a,b',
      '/a}',
      '/a\\',
      '/a\\/b',
      '/a\\\\b',
      '/a\tb',
      '/a\u0000',
      '/\ud800',
      '/' + '{a,b}'.repeat(9),
      '/' + 'a'.repeat(1024),
    ];
    for (const pattern of invalid) {
      it(`rejects ${JSON.stringify(pattern.length > 40 ? pattern.slice(0, 40) + '…' : pattern)}`, () => {
        assert.throws(
          () => compilePathGlobs(['/ok', pattern]),
          (error: unknown) =>
            error instanceof TypeError && error.message.startsWith(`Invalid path pattern ${JSON.stringify(pattern)}`),
        );
      });
    }

    it('rejects a non-string pattern', () => {
      assert.throws(() => compilePathGlobs([42 as unknown as string]), TypeError);
    });
  });

  // Review issue 15, item 4: protection rules (VESTIBULE_REQUIRE_TOKEN_PATHS) match case-insensitively, since
  // Express and ASP.NET route /API/x to the handler of /api/x; exemptions (the default) stay case-sensitive.
  describe('protected-path case bypass', () => {
    const rules = ['/api/**', '/api/admin/**', '/reports/*.csv', '/exact', '/secret', '/kit/**'];
    const protects = compilePathGlobs(rules, { caseInsensitive: true });
    const exempts = compilePathGlobs(rules);
    const cases: [string, string | null][] = [
      ['/API/x', '/API/x'],
      ['/Api/x', '/Api/x'],
      ['/%41PI/x', '/API/x'],
      ['/%61pi/x', '/api/x'],
      ['/api/ADMIN/x', '/api/ADMIN/x'],
      ['/aPi/AdMiN', '/aPi/AdMiN'],
      ['/REPORTS/Q1.CSV', '/REPORTS/Q1.CSV'],
      ['/EXACT', '/EXACT'],
      ['/Exact/', '/Exact'],
      // characters outside ASCII that case-fold to an ASCII letter in some routers (Java's equalsIgnoreCase,
      // Unicode case folding): long s (U+017F), Kelvin sign (U+212A), dotted/dotless I (U+0130/U+0131)
      ['/%C5%BFecret', '/%C5%BFecret'],
      ['/ap%C4%B1/x', '/ap%C4%B1/x'],
      ['/ap%C4%B0/x', '/ap%C4%B0/x'],
      ['/%E2%84%AAit/x', '/%E2%84%AAit/x'],
    ];
    for (const [raw, canonical] of cases) {
      it(`${raw} is protected by a rule in any case, exempt only by one in its exact case`, () => {
        const path = normalizePath(raw);
        assert.equal(path, canonical);
        assert.equal(protects(path), true, `${raw} dodges the protection rules`);
        // Only /api/** in its exact case matches these two as an exemption would (case-sensitive).
        const exactCase = path === '/api/x' || path === '/api/ADMIN/x';
        assert.equal(exempts(path), exactCase, `${raw} as an exemption`);
      });
    }

    it('folds case in patterns too, and keeps escapes whole', () => {
      const rule = compilePathGlobs(['/API/Admin/**', '/caf%C3%A9/*.TXT'], { caseInsensitive: true });
      assert.equal(rule('/api/admin/x'), true);
      assert.equal(rule(normalizePath('/CAF%c3%a9/a.txt')), true);
      assert.equal(rule(normalizePath('/cafe/a.txt')), false);
      assert.equal(rule('/apix/admin'), false);
      assert.equal(rule(null), false, 'the caller decides for paths without canonical form');
    });

    it('exemptions keep exact case: /public/** does not exempt /PUBLIC/x or /%50UBLIC/x', () => {
      const exempt = compilePathGlobs(['/public/**']);
      assert.equal(exempt(normalizePath('/public/x')), true);
      assert.equal(exempt(normalizePath('/PUBLIC/x')), false);
      assert.equal(exempt(normalizePath('/%50ublic/x')), false);
    });
  });

  it('matches pathological inputs in linear time (no backtracking blow-up)', () => {
    const matches = compilePathGlobs(['/**/a/**/a/**/a/**/b', '/*a*a*a*a*a*a*b']);
    const segments = '/a'.repeat(2_000);
    assert.equal(matches(segments), false);
    assert.equal(matches('/' + 'a'.repeat(50_000)), false);
  });
});
