import { aliasNames, allSettings } from './settings.js';

/** The --help text, built from the same table that validates the settings, so the two never disagree. */
export function helpText(): string {
  const lines = [
    'vestibule — login sidecar for Entra ID',
    '',
    'Usage: vestibule [--help] [--version]',
    '',
    'vestibule runs the OIDC login against Entra ID at /oauth2/login, keeps the session server-side and',
    'forwards every other request to the app with "Authorization: Bearer <access token>".',
    'It is configured only through environment variables:',
  ];
  let group = '';
  for (const s of allSettings) {
    if (s.group !== group) {
      group = s.group;
      lines.push('', `${group}:`);
    }
    lines.push(`  ${s.env}${s.default !== undefined ? ` (default: ${s.default})` : ''}`);
    lines.push(`      ${s.description}`);
    lines.push(`      Example: ${s.env}=${s.example}`);
    const aliases = aliasNames(s);
    if (aliases.length > 0) lines.push(`      Also read from: ${aliases.join(', ')}`);
  }
  lines.push('', 'Documentation: docs/configuration.md');
  return lines.join('\n');
}
