import { allSettings } from './settings.js';

/**
 * docs/configuration.md, rendered from the settings table. A test fails when the committed file differs,
 * so the documentation cannot drift from the code (`npm run docs` rewrites it).
 */
export function configurationMarkdown(): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/settings.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'vestibule is configured only through environment variables. They are validated at start-up: every problem',
    'is reported at once, naming the variable, what is wrong and a valid example, and vestibule exits with',
    'status 2. Secret values are never printed. `vestibule --help` prints the same list.',
    '',
    'Durations use Go syntax: `500ms`, `30s`, `15m`, `10h`, `1h30m`.',
    '',
    'The `AZURE_APP_*` names are the ones the NAIS platform injects from the Entra ID app registration.',
  ];
  let group = '';
  for (const s of allSettings) {
    if (s.group !== group) {
      group = s.group;
      out.push('', `## ${group}`, '', '| Variable | Default | Description | Example |', '|---|---|---|---|');
    }
    const cell = (v: string): string => v.replace(/\|/g, '\\|');
    out.push(
      `| \`${s.env}\` | ${s.default !== undefined ? `\`${cell(s.default)}\`` : '—'} | ${cell(s.description)}${s.secret ? ' **Secret.**' : ''} | \`${cell(s.example)}\` |`,
    );
  }
  out.push('');
  return out.join('\n');
}
