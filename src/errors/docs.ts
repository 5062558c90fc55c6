import { entryOf, ErrorCodes, type ErrorCode } from './registry.js';

/**
 * docs/errors.md, rendered from the error registry. A test fails when the committed file differs, so the
 * documentation cannot drift from the code (`npm run docs` rewrites it).
 */
export function errorsMarkdown(): string {
  const cell = (v: string): string => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out: string[] = [
    '# Errors',
    '',
    '<!-- Generated from src/errors/registry.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Every error answer vestibule sends has an entry in the error registry (`src/errors/registry.ts`) and is',
    'sent through `sendError` (`src/errors/answers.ts`). JSON answers are `{"error": …, "error_description": …}`',
    'plus the extra members named below; pages are a small HTML page with the title, the message, the',
    'correlation id (the request id) and a link to the front page; text answers are one line of text/plain.',
    'A call may replace the message with a more precise one (the token API names the field, for example).',
    '',
    'Codes whose answer is `thrown` are failures raised inside vestibule as `VestibuleError`: where they occur',
    'they are usually mapped to one of the answers below; one that nobody catches is answered by the generic',
    'error handler as JSON with the status and `error` shown.',
    '',
    '| Code | Status | Wire `error` | Answer | Message | Page title | Sent when |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
    const e = entryOf(code);
    const status = e.passThrough ? `${e.status} (or as given)` : String(e.status);
    const wire = e.shapes.includes('json') ? `\`${cell(e.error)}\`${e.passThrough ? ' (or as given)' : ''}` : '—';
    const shapes = e.shapes.length === 0 ? 'thrown' : e.shapes.join(', ');
    const extras = [
      e.describe === false ? 'no `error_description`' : '',
      e.retryAfterSec !== undefined ? `\`Retry-After: ${e.retryAfterSec}\`` : '',
    ].filter(Boolean);
    out.push(
      `| \`${code}\` | ${status} | ${wire} | ${shapes}${extras.length ? ` (${extras.join(', ')})` : ''} | ${cell(e.message)} | ${e.title ? cell(e.title) : '—'} | ${cell(e.where)} |`,
    );
  }
  out.push('');
  return out.join('\n');
}
