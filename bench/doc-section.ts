/**
 * docs/benchmarks.md is written by hand (the method) except for one marked section the benchmark rewrites,
 * so the published table always comes from a real run and the prose around it is never clobbered. The result
 * is run through prettier with the project's settings, so `npm run lint` stays clean after a run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import prettier from 'prettier';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

/** `doc` with the text between the markers replaced by `content`; throws when the markers are missing. */
export function replaceMarkedSection(doc: string, content: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin === -1 || end === -1 || end < begin) throw new Error(`the document has no ${BEGIN} … ${END} section`);
  return `${doc.slice(0, begin + BEGIN.length)}\n\n${content.trim()}\n\n${doc.slice(end)}`;
}

/** Rewrites the marked section of the markdown file at `path` and formats the file with prettier. */
export async function writeMarkedSection(path: string, content: string): Promise<void> {
  const replaced = replaceMarkedSection(readFileSync(path, 'utf8'), content);
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(replaced, { ...options, filepath: path }));
}
