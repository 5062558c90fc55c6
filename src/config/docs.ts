import { aliasNames, allSettings, ignoredVariables, isComposite, settingsByGroup, type Peer } from './settings.js';

const cell = (v: string): string => v.replace(/\|/g, '\\|');

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
    '',
    'Each setting is also read from the variables NAIS injects for Wonderwall and Texas ("Also read from"), so',
    "vestibule replaces both sidecars without a change to the pod's environment. The setting's own variable",
    'wins; two of its aliases with different values stop start-up. [migrating.md](migrating.md) lists every',
    'Wonderwall and Texas variable and what became of it.',
  ];
  for (const [group, settings] of settingsByGroup()) {
    out.push(
      '',
      `## ${group}`,
      '',
      '| Variable | Default | Description | Example | Also read from |',
      '|---|---|---|---|---|',
    );
    for (const s of settings) {
      const aliases = aliasNames(s);
      out.push(
        `| \`${s.env}\` | ${s.default !== undefined ? `\`${cell(s.default)}\`` : '—'} | ${cell(s.description)}${s.secret ? ' **Secret.**' : ''} | \`${cell(s.example)}\` | ${aliases.length > 0 ? aliases.map((a) => cell(a)).join('<br>') : '—'} |`,
      );
    }
  }
  out.push('');
  return out.join('\n');
}

export const SETTINGS_START = '<!-- settings:start -->';
export const SETTINGS_END = '<!-- settings:end -->';

interface Row {
  readonly variable: string;
  readonly peer: Peer | 'vestibule';
  readonly status: 'same' | 'renamed' | 'new' | 'dropped';
  readonly vestibule: string;
  readonly note: string;
}

/** The compatibility table of docs/migrating.md: every Wonderwall and Texas variable, and vestibule's new ones. */
export function compatibilityTable(): string {
  const rows: Row[] = [];
  for (const s of allSettings) {
    for (const peer of s.sameAs ?? []) {
      rows.push({
        variable: s.env,
        peer,
        status: 'same',
        vestibule: s.env,
        note: 'injected and read under the same name',
      });
    }
    for (const a of s.aliases ?? []) {
      // Workload identity's variables are not a peer's: configuration.md lists them, migrating has no part in them.
      if (a.from !== 'Wonderwall' && a.from !== 'Texas') continue;
      const peer = a.from;
      if (isComposite(a)) {
        for (const env of a.envs) {
          const others = a.envs.filter((e) => e !== env);
          rows.push({
            variable: env,
            peer,
            status: 'renamed',
            vestibule: s.env,
            note: `${others.length > 0 ? `combined with ${others.map((e) => `\`${e}\``).join(', ')}: ` : ''}${a.note}`,
          });
        }
      } else {
        rows.push({
          variable: a.env,
          peer,
          status: 'renamed',
          vestibule: s.env,
          note: [a.convert ? `converted (e.g. \`${a.env}=${a.example ?? s.example}\`)` : 'same format', a.note]
            .filter(Boolean)
            .join('; '),
        });
      }
    }
    if (!s.sameAs && !s.aliases) {
      rows.push({ variable: s.env, peer: 'vestibule', status: 'new', vestibule: s.env, note: 'no equivalent' });
    }
  }
  for (const i of ignoredVariables) {
    const verdicts = i.check ? ' (start-up warns or refuses when its value asks for it)' : '';
    rows.push({ variable: i.env, peer: i.from, status: 'dropped', vestibule: '—', note: `${i.reason}${verdicts}` });
  }
  const order = { Wonderwall: 0, Texas: 1, vestibule: 2 };
  rows.sort((a, b) => order[a.peer] - order[b.peer] || a.variable.localeCompare(b.variable));
  const out = [
    SETTINGS_START,
    '<!-- Generated from src/config/settings.ts by `npm run docs`. Edit around the markers, not between them. -->',
    '',
    '| Variable | Peer | Status | vestibule setting | Note |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.variable}\` | ${r.peer} | ${r.status} | ${r.vestibule === '—' ? '—' : `\`${r.vestibule}\``} | ${cell(r.note)} |`,
    ),
    SETTINGS_END,
  ];
  return out.join('\n');
}

/** What a fresh docs/migrating.md holds around the generated table (later sections are written by hand). */
const MIGRATING_SKELETON = `# Migrating from Wonderwall and Texas

vestibule replaces the two sidecars naiserator injects for an Entra ID app, Wonderwall (login proxy) and Texas
(token API), in one container. It reads the environment naiserator and azurerator already inject, under the
same names, and listens where NAIS expects the two:

| Listener | NAIS address | Variable read | vestibule setting |
|---|---|---|---|
| login proxy | \`0.0.0.0:7564\` | \`WONDERWALL_BIND_ADDRESS\` | \`VESTIBULE_BIND_ADDRESS\` |
| metrics (and admin) | \`0.0.0.0:7565\` | \`WONDERWALL_METRICS_BIND_ADDRESS\` | \`VESTIBULE_ADMIN_BIND_ADDRESS\` |
| login proxy probes (\`/\`, \`/healthz\`, \`/readyz\`) | \`0.0.0.0:7566\` | \`WONDERWALL_PROBE_BIND_ADDRESS\` | \`VESTIBULE_PROBE_BIND_ADDRESS\` |
| token API | \`127.0.0.1:7164\` | \`BIND_ADDRESS\` | \`VESTIBULE_TOKEN_BIND_ADDRESS\` |
| token API probes (\`/\`, \`/healthz\`, \`/readyz\`) | \`0.0.0.0:7165\` | \`PROBE_BIND_ADDRESS\` | \`VESTIBULE_TOKEN_PROBE_BIND_ADDRESS\` |

naiserator's startup probes are \`GET /healthz\` on 7566 (Wonderwall) and on 7165 (Texas)
(naiserator \`pkg/resourcecreator/wonderwall/wonderwall.go\` and \`texas/texas.go\` at 808737d). Each listener
can be moved with its variable, or turned off with \`off\`; the probe listeners are off unless set, as in
Wonderwall and Texas.

Sessions made by Wonderwall are not readable by vestibule (another cookie and record format): after the switch
users log in once more. \`WONDERWALL_ENCRYPTION_KEY\` has the same format (32 random bytes, standard base64, as
naiserator generates it) and is used as vestibule's key.

## Variables

Every variable naiserator and azurerator inject for the Wonderwall (Entra ID, standalone) and Texas containers,
every other variable of Wonderwall's and Texas's own configuration, and vestibule's new settings. Status:
**same** (read under the same name), **renamed** (read as the vestibule setting named; converted where the
formats differ), **dropped** (accepted and ignored, with the reason), **new** (vestibule only). Sources:
wonderwall \`pkg/config/*.go\` and \`charts/wonderwall/templates/replicationconfig.yaml\` at 1e1066a; naiserator
at 808737d; Texas \`src/config.rs\` (docs/reference: entra.md §B.4). An unknown \`WONDERWALL_*\` or \`TEXAS_*\`
variable is reported once at start-up as a warning.

${SETTINGS_START}
${SETTINGS_END}
`;

/**
 * docs/migrating.md: `current` (the committed file, or undefined) with the block between the settings markers
 * regenerated; hand-written sections around the markers are kept as they are.
 */
export function migratingMarkdown(current: string | undefined): string {
  const doc = current ?? MIGRATING_SKELETON;
  const start = doc.indexOf(SETTINGS_START);
  const end = doc.indexOf(SETTINGS_END);
  if (start < 0 || end < start)
    throw new Error(`docs/migrating.md has lost its ${SETTINGS_START} / ${SETTINGS_END} markers`);
  return doc.slice(0, start) + compatibilityTable() + doc.slice(end + SETTINGS_END.length);
}
