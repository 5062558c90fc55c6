import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cookieValues, stripCookies } from './cookie-header.js';

const P = 'vestibule';

const owsTrim = (text: string): string => text.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
const pairsOf = (header: string): string[] =>
  header
    .split(';')
    .map(owsTrim)
    .filter((pair) => pair !== '');

describe('stripCookies', () => {
  const table: [string, string | string[] | undefined, string | undefined][] = [
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['only separators', ' ; ;', undefined],
    ['only ours', 'vestibule.session=abc', undefined],
    ['exact prefix', 'vestibule=abc', undefined],
    ['all ours', 'vestibule.session=a; vestibule.login=b; vestibule=c', undefined],
    ['ours first', 'vestibule.session=abc; app=1', 'app=1'],
    ['ours last', 'app=1; vestibule.session=abc', 'app=1'],
    ['ours in the middle', 'a=1; vestibule.session=abc; b=2', 'a=1; b=2'],
    ['duplicates of ours', 'vestibule.session=old; a=1; vestibule.session=new', 'a=1'],
    ['session2 is ours', 'vestibule.session2=x; a=1', 'a=1'],
    ['chunk names are ours', 'vestibule.session.0=x; vestibule.session.1=y; a=1', 'a=1'],
    ['vestibulex is not ours', 'vestibulex=1; vestibule.s=2', 'vestibulex=1'],
    [
      'case variants are not ours',
      'Vestibule.session=1; VESTIBULE=2; vestibule.s=3',
      'Vestibule.session=1; VESTIBULE=2',
    ],
    ['prefix inside a value is kept', 'a=vestibule.session; vestibule=x', 'a=vestibule.session'],
    ['prefix as a suffix is kept', 'my.vestibule=1; vestibule.x=2', 'my.vestibule=1'],
    ['bare token of ours', 'vestibule.session; a=1', 'a=1'],
    ['bare token kept', 'flag; vestibule=x; a=1', 'flag; a=1'],
    ['empty pairs and spaces', ' ;a=1;;  vestibule.s=x ;\tb=2 ; ', 'a=1; b=2'],
    ['no space after separator', 'a=1;vestibule.s=x;b=2', 'a=1; b=2'],
    ['spaces around the name', 'a=1;  vestibule.s =x', 'a=1'],
    ['quoted values kept byte-for-byte', 'a="x; y"; vestibule=1', 'a="x; y"'],
    ['value with = and spaces kept', 'a=b=c d; vestibule.s=1', 'a=b=c d'],
    ['empty name kept', '=x; vestibule.s=1', '=x'],
    ['array, both kept', ['a=1', 'b=2'], 'a=1; b=2'],
    ['array, ours dropped', ['a=1', 'vestibule.session=x', 'b=2; vestibule.login=y'], 'a=1; b=2'],
    ['array, all ours', ['vestibule.session=x', 'vestibule=y'], undefined],
    ['array, blank elements', ['', ' a=1 ', ';'], 'a=1'],
    ['empty array', [], undefined],
    ['__Host- session is ours', 'a=1; __Host-vestibule.session=x', 'a=1'],
    ['__Secure- login is ours', '__Secure-vestibule.login.abc=x; a=1', 'a=1'],
    [
      'prefixes in any case are ours (browsers match them so)',
      '__HOST-vestibule.session=x; __secure-vestibule=y; a=1',
      'a=1',
    ],
    [
      'a prefix alone is not ours',
      '__Host-=1; __Secure-x=2; __Host-vestibulex=3',
      '__Host-=1; __Secure-x=2; __Host-vestibulex=3',
    ],
    ['a doubled prefix is ours', '__Host-__Secure-vestibule.session=1; a=1', 'a=1'],
  ];
  for (const [name, header, expected] of table) {
    it(`${name} → ${JSON.stringify(expected)}`, () => {
      assert.equal(stripCookies(header, P), expected);
    });
  }

  it('returns the very same string when the prefix does not occur or nothing is ours', () => {
    const header = 'a=1;b=2;  c="3"';
    assert.equal(stripCookies(header, P), header);
    const mentions = ' vestibulex=1;a=vestibule;; ';
    assert.equal(stripCookies(mentions, P), mentions);
  });

  it('honours another prefix', () => {
    assert.equal(stripCookies('io.nais.wonderwall.session=1; vestibule=2', 'io.nais.wonderwall'), 'vestibule=2');
  });

  it('handles huge headers', () => {
    const others = Array.from({ length: 5_000 }, (_, i) => `c${i}=${'v'.repeat(20)}`);
    const ours = Array.from({ length: 5_000 }, (_, i) => `vestibule.session.${i}=${'x'.repeat(20)}`);
    const mixed = others.flatMap((pair, i) => [pair, ours[i]]).join('; ');
    assert.equal(stripCookies(mixed, P), others.join('; '));
    const noise = ';'.repeat(100_000) + ' a=1 ' + ' '.repeat(100_000);
    assert.equal(stripCookies(noise + ';vestibule=1', P), 'a=1');
  });

  it('never throws, never returns one of our cookies, and keeps the other pairs in order (property)', () => {
    const name = fc.constantFrom(
      'vestibule',
      'vestibule.session',
      'vestibule.',
      'vestibulex',
      'Vestibule',
      'a',
      'b',
      '',
    );
    const pair = fc.tuple(
      name,
      fc.constantFrom('', '=', '=1', '="q"', '=a b', '=vestibule'),
      fc.constantFrom('', ' ', '\t'),
    );
    const header = fc.array(pair, { maxLength: 12 }).map((pairs) => pairs.map(([n, v, ws]) => ws + n + v).join(';'));
    fc.assert(
      fc.property(fc.oneof(header, fc.array(header, { maxLength: 3 }), fc.string()), (input) => {
        const result = stripCookies(input, P);
        const resultPairs = pairsOf(result ?? '');
        for (const pair of resultPairs) {
          const n = owsTrim(pair.split('=')[0]!);
          assert.ok(n !== P && !n.startsWith(P + '.'), result);
        }
        const inputPairs = (typeof input === 'string' ? [input] : input).flatMap(pairsOf);
        const expected = inputPairs.filter((pair) => {
          const n = owsTrim(pair.split('=')[0]!);
          return n !== P && !n.startsWith(P + '.');
        });
        assert.deepEqual(resultPairs, expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('cookieValues', () => {
  const table: [string, string | string[] | undefined, string, string[]][] = [
    ['absent', undefined, 'vestibule.session', []],
    ['empty', '', 'vestibule.session', []],
    ['one', 'a=1; vestibule.session=abc', 'vestibule.session', ['abc']],
    ['duplicates in order', 'vestibule.session=old; a=1; vestibule.session=new', 'vestibule.session', ['old', 'new']],
    [
      'duplicates across headers',
      ['vestibule.session=one', 'x=1; vestibule.session=two'],
      'vestibule.session',
      ['one', 'two'],
    ],
    ['prefix of another name', 'vestibule.session2=x; vestibule.sessions=y', 'vestibule.session', []],
    ['case-sensitive', 'Vestibule.session=x', 'vestibule.session', []],
    ['name as a value', 'a=vestibule.session', 'vestibule.session', []],
    ['empty value', 'vestibule.session=', 'vestibule.session', ['']],
    ['no = is no value', 'vestibule.session; a=1', 'vestibule.session', []],
    ['whitespace trimmed', ' vestibule.session = abc \t;', 'vestibule.session', ['abc']],
    ['no separator spaces', 'a=1;vestibule.session=abc;b=2', 'vestibule.session', ['abc']],
    ['quoted', 'vestibule.session="abc"', 'vestibule.session', ['abc']],
    ['lone quote kept', 'vestibule.session="abc', 'vestibule.session', ['"abc']],
    ['= inside value', 'vestibule.session=a=b==', 'vestibule.session', ['a=b==']],
    ['not percent-decoded', 'vestibule.session=a%20b', 'vestibule.session', ['a%20b']],
    ['empty name asked', '=x', '', []],
  ];
  for (const [label, header, name, expected] of table) {
    it(`${label} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(cookieValues(header, name), expected);
    });
  }

  it('finds both values among thousands of pairs', () => {
    const pairs = Array.from({ length: 10_000 }, (_, i) => `c${i}=v`);
    pairs[10] = 'vestibule.session=first';
    pairs[9_990] = 'vestibule.session=second';
    assert.deepEqual(cookieValues(pairs.join('; '), 'vestibule.session'), ['first', 'second']);
  });
});
