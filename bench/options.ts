/**
 * Command-line options of `npm run bench`: the full run (several connection counts, medians of several runs,
 * 100 000 sessions, writes docs/benchmarks.md) and `--smoke` (seconds, tiny load, prints only).
 */
import { parseArgs } from 'node:util';
import type { LoadTool } from './load.js';
import { TARGET_IDS, type TargetId } from './target.js';

export interface BenchOptions {
  readonly smoke: boolean;
  readonly connections: readonly number[];
  readonly runs: number;
  readonly durationSec: number;
  /** Warm-up per target before measuring (JIT, connection pools). */
  readonly warmupSec: number;
  /** Sessions seeded for target (e). */
  readonly sessions: number;
  readonly targets: readonly TargetId[];
  readonly tool: LoadTool | undefined;
  /** Run vestibule from the compiled build (full) or under tsx (smoke, or --tsx). */
  readonly compiled: boolean;
  /** Rewrite the marked section of docs/benchmarks.md. */
  readonly write: boolean;
  /** node flags for vestibule instead of the image's ENTRYPOINT flags (to weigh a trade-off); never written. */
  readonly nodeFlags: readonly string[] | undefined;
  /** Also profile vestibule under load with --cpu-prof and print its hottest functions. */
  readonly profile: boolean;
  /** Which path the profile loads: (d) one session, or (g) a different session per request (the cache misses). */
  readonly profileTarget: 'd' | 'g';
  /** Where to keep the .cpuprofile (it is deleted with the temp dir otherwise). */
  readonly profileOut: string | undefined;
  /** Write the SVG chart here (a full run that writes the doc writes docs/benchmarks.svg anyway). */
  readonly chart: string | undefined;
  /** Keep the raw results as JSON, to render them again later. */
  readonly save: string | undefined;
  /** Render saved results instead of measuring. */
  readonly from: string | undefined;
  readonly help: boolean;
}

export const HELP = `Usage: npm run bench [-- options]

Starts everything on 127.0.0.1 (upstream, mock Entra ID, Redis, the proxies), loads each target from a
separate process (wrk if installed, else autocannon) and prints one table. The full run writes it into
docs/benchmarks.md between <!-- bench:begin --> and <!-- bench:end -->.

  --smoke              seconds, tiny load, 1 000 sessions, no doc write (CI)
  --connections 16,64,256
  --runs N             runs per figure; each figure is the median (default 3)
  --duration S         seconds per run (default 10)
  --warmup S           seconds of warm-up per target (default 3)
  --sessions N         sessions seeded for target (e) (default 100000)
  --targets a,b,…      subset of a,b,c,d,e,f,g (default all)
  --tool wrk|autocannon
  --tsx                run vestibule under tsx instead of the compiled build
  --no-write           do not touch docs/benchmarks.md
  --node-flags="F"     node flags for vestibule instead of the Dockerfile ENTRYPOINT's (--node-flags= for
                       none), e.g. --node-flags="--max-semi-space-size=16"; never writes docs/benchmarks.md
  --profile            profile vestibule under load (--cpu-prof) and print the hottest functions
  --profile-target d|g profile (d) one session (default) or (g) a different session per request (needs g
                       among --targets, and wrk)
  --profile-out FILE   keep the .cpuprofile there
  --chart FILE         write the SVG chart there (the full run writes docs/benchmarks.svg with the doc)
  --save FILE          keep the raw results as JSON
  --from FILE          measure nothing: render saved results (and write the doc, unless --no-write)
  --help`;

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${raw}`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      sessions: { type: 'string' },
      targets: { type: 'string' },
      tool: { type: 'string' },
      tsx: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      'node-flags': { type: 'string' },
      profile: { type: 'boolean' },
      'profile-out': { type: 'string' },
      'profile-target': { type: 'string' },
      chart: { type: 'string' },
      save: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const smoke = values.smoke === true;
  const tool = values.tool;
  if (tool !== undefined && tool !== 'wrk' && tool !== 'autocannon')
    throw new Error('--tool must be wrk or autocannon');
  const targets = (values.targets ?? TARGET_IDS.join(',')).split(',').map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGET_IDS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`unknown targets: ${unknown.join(', ')} (expected ${TARGET_IDS.join(',')})`);
  const profileTarget = values['profile-target'] ?? 'd';
  if (profileTarget !== 'd' && profileTarget !== 'g') throw new Error('--profile-target must be d or g');
  if (profileTarget === 'g' && !targets.includes('g')) throw new Error('--profile-target g needs g among --targets');
  const nodeFlags = values['node-flags']?.split(/\s+/).filter((f) => f !== '');
  const notFlag = nodeFlags?.find((f) => !f.startsWith('--'));
  if (notFlag !== undefined) throw new Error(`--node-flags takes node flags (each starting with --), not ${notFlag}`);
  const connections = (values.connections ?? (smoke ? '8' : '16,64,256'))
    .split(',')
    .map((c) => positiveInt('connections', c.trim()));
  return {
    smoke,
    connections,
    runs: positiveInt('runs', values.runs ?? (smoke ? '1' : '3')),
    durationSec: positiveInt('duration', values.duration ?? (smoke ? '1' : '10')),
    warmupSec: Number(values.warmup ?? (smoke ? '0' : '3')),
    sessions: positiveInt('sessions', values.sessions ?? (smoke ? '1000' : '100000')),
    targets: targets as TargetId[],
    tool,
    compiled: !smoke && values.tsx !== true,
    write: !smoke && values['no-write'] !== true && nodeFlags === undefined,
    nodeFlags,
    profile: values.profile === true || values['profile-out'] !== undefined || values['profile-target'] !== undefined,
    profileTarget,
    profileOut: values['profile-out'],
    chart: values.chart,
    save: values.save,
    from: values.from,
    help: values.help === true,
  };
}
