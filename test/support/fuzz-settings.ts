import fc from 'fast-check';

/** Runs per property (FUZZ_RUNS, default 300: bounded for CI; raise it locally to search harder). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/**
 * fast-check parameters: FUZZ_SEED replays a failure (fast-check prints the seed and path of every failure).
 * `runs` scales the run count for properties whose single run costs several requests.
 */
export function fuzzParams(runs = RUNS): { numRuns: number; seed?: number } {
  return { numRuns: runs, ...(SEED === undefined ? {} : { seed: SEED }) };
}

/** Fragments of paths, queries and header values that have broken peers' parsers and matchers. */
const ATOMS = [
  '/',
  '/',
  '/',
  'oauth2',
  'login',
  'callback',
  'logout',
  'session',
  'refresh',
  'forwardauth',
  'echo',
  'public',
  '..',
  '.',
  '%2e',
  '%2E%2e',
  '%2f',
  '%2F',
  '%5c',
  '%00',
  '%',
  '%zz',
  '%25',
  ';',
  ';x=1',
  '?',
  '#',
  '&',
  '=',
  'redirect=',
  'state=',
  '//evil.example',
  '\\',
  '@',
  ':',
  '*',
  '~',
  'A',
  '0',
  '%c3%a9',
  '\u00e9',
  '%0d%0a',
  ',',
];
export const atoms = fc.constantFrom(...ATOMS);
