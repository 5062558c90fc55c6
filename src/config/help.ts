import { aliasNames, settingsByGroup } from './settings.js';

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
  for (const [group, settings] of settingsByGroup()) {
    lines.push('', `${group}:`);
    for (const s of settings) {
      lines.push(`  ${s.env}${s.default !== undefined ? ` (default: ${s.default})` : ''}`);
      lines.push(`      ${s.description}`);
      lines.push(`      Example: ${s.env}=${s.example}`);
      const aliases = aliasNames(s);
      if (aliases.length > 0) lines.push(`      Also read from: ${aliases.join(', ')}`);
    }
  }
  lines.push(
    '',
    'Exit status: 0 after --help or --version; 2 for an unknown option or invalid settings (every problem is',
    'named, with an example); 1 when start-up fails (e.g. the identity provider cannot be discovered).',
  );
  return lines.join('\n');
}
