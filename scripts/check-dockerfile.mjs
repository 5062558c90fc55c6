// Offline checks of the Dockerfile (no Docker daemon here): dockerfile-utils' linter, then our own
// rules for the vestibule image (multi-stage, slim LTS base, production deps only, non-root, healthcheck
// without curl, ports, no remote ADD, NODE_ENV=production, entrypoint).
// Usage: node scripts/check-dockerfile.mjs [path/to/Dockerfile]   (default: the repository's Dockerfile)
// parseInstructions and splitStages are exported for the tests that rebuild the image's filesystem
// (test/support/image-tree.ts), so they read the Dockerfile as this check does.
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXPECTED_PORTS = ['7164', '7564', '7565'];
const HEALTH_URL = 'http://127.0.0.1:7565/healthz';
const ENTRYPOINT = ['node', '--max-semi-space-size=8', '--heap-growing-percent=50', 'dist/src/main.js'];

/** Logical instructions: continuation lines joined, comments and blank lines dropped. */
export function parseInstructions(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1).trim()} `;
      return;
    }
    buf += line;
    const m = /^(\S+)\s*(.*)$/s.exec(buf);
    out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = '';
  });
  return out;
}

/** Stages split on FROM: the base image, the stage name (if any) and the instructions after FROM. */
export function splitStages(instructions) {
  const stages = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0], name: as > 0 ? words[as + 1] : undefined, from: ins, body: [] });
    } else stages.at(-1)?.body.push(ins);
  }
  return stages;
}

const parseJsonArray = (args) => {
  try {
    const v = JSON.parse(args);
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
};
const installsProductionOnly = (stage) =>
  stage.body.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit[= ]dev\b/.test(i.args));

/** Each rule returns a list of problems; an empty list is a pass. */
function rules(instructions) {
  const stages = splitStages(instructions);
  const final = stages.at(-1);
  const body = (keyword) => final?.body.filter((i) => i.keyword === keyword) ?? [];
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  return [
    ['multi-stage build', () => (stages.length >= 2 ? [] : [`${stages.length} FROM instruction(s); need at least 2`])],
    [
      'base images pinned',
      () =>
        stages
          .filter((s) => !stageNames.has(s.image))
          .filter((s) => !/@sha256:[0-9a-f]{64}$/.test(s.image) && !/:[^:/]+$/.test(s.image.replace(/:latest$/, '')))
          .map((s) => `line ${s.from.line}: ${s.image} is not pinned by a version tag or digest`),
    ],
    [
      'final stage node LTS slim',
      () => {
        // node:<major>[.<minor>[.<patch>]]-<distro>-slim; 22 is the oldest LTS line still supported.
        const m = /^node:(\d+)(\.\d+){0,2}-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/.exec(final?.image ?? '');
        return m && Number(m[1]) % 2 === 0 && Number(m[1]) >= 22
          ? []
          : [`final stage is based on ${final?.image}; expected node:<even LTS major>-<distro>-slim`];
      },
    ],
    [
      'production dependencies only',
      () => {
        const npmInFinal = body('RUN').filter((i) => /\bnpm (ci|install|i)\b/.test(i.args));
        const bad = npmInFinal.filter((i) => !/--omit[= ]dev\b/.test(i.args));
        if (bad.length > 0)
          return bad.map((i) => `line ${i.line}: npm ci/install in the final stage without --omit=dev`);
        if (npmInFinal.length > 0) return [];
        const copied = body('COPY')
          .filter((i) => /node_modules/.test(i.args))
          .map((i) => /--from=(\S+)/.exec(i.args)?.[1]);
        const source = (ref) => stages.find((s, n) => s.name === ref || String(n) === ref);
        return copied.length > 0 && copied.every((ref) => ref && source(ref) && installsProductionOnly(source(ref)))
          ? []
          : ['node_modules must come from `npm ci --omit=dev` (in the final stage or a stage it copies from)'];
      },
    ],
    [
      'non-root numeric USER',
      () => {
        const user = body('USER').at(-1)?.args;
        const m = /^(\d+)(:\d+)?$/.exec(user ?? '');
        return m && Number(m[1]) > 0 ? [] : [`final USER is ${user ?? 'unset'}; expected a numeric non-zero uid`];
      },
    ],
    [
      'HEALTHCHECK via node',
      () => {
        const hc = body('HEALTHCHECK').at(-1)?.args ?? '';
        const cmd = hc.replace(/^(--\S+\s+)*CMD\s+/, '');
        const argv = parseJsonArray(cmd);
        const p = [];
        if (!hc.includes(HEALTH_URL)) p.push(`HEALTHCHECK must request ${HEALTH_URL}`);
        if ((argv ? argv[0] : cmd.split(/\s+/)[0]) !== 'node')
          p.push('HEALTHCHECK must run node (slim images have no curl)');
        if (/\b(curl|wget)\b/.test(hc)) p.push('HEALTHCHECK uses curl/wget, which slim images lack');
        return p;
      },
    ],
    [
      'EXPOSE 7564 7565 7164',
      () => {
        const ports = body('EXPOSE')
          .flatMap((i) => i.args.split(/\s+/))
          .map((p) => p.replace(/\/tcp$/, ''))
          .sort();
        return JSON.stringify(ports) === JSON.stringify(EXPECTED_PORTS)
          ? []
          : [`exposed ports are ${ports.join(' ') || 'none'}; expected ${EXPECTED_PORTS.join(' ')}`];
      },
    ],
    [
      'no remote ADD',
      () =>
        instructions
          .filter((i) => i.keyword === 'ADD' && /(:\/\/|git@)/.test(i.args))
          .map((i) => `line ${i.line}: ADD of a remote source; download in a RUN step with a checksum instead`),
    ],
    [
      'NODE_ENV=production',
      () =>
        body('ENV').some((i) => /(^|\s)NODE_ENV(=|\s+)"?production"?(\s|$)/.test(i.args))
          ? []
          : ['final stage does not set ENV NODE_ENV=production'],
    ],
    [
      'ENTRYPOINT exec form',
      () => {
        const ep = parseJsonArray(body('ENTRYPOINT').at(-1)?.args ?? '');
        return JSON.stringify(ep) === JSON.stringify(ENTRYPOINT)
          ? []
          : [`ENTRYPOINT must be ${JSON.stringify(ENTRYPOINT)} (exec form, so node is PID 1 and gets SIGTERM)`];
      },
    ],
  ];
}

function main() {
  const path = resolve(process.argv[2] ?? `${root}/Dockerfile`);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    console.error(`check-dockerfile: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  const failures = [];
  const report = (name, problems) => {
    if (problems.length === 0) console.log(`ok   ${name}`);
    else failures.push(`FAIL ${name}:\n  - ${problems.join('\n  - ')}`);
  };
  // Severity 1 is an error, 2 a warning: both fail, the Dockerfile is small enough to be clean.
  report(
    'dockerfile-utils lint',
    validate(text).map(
      (d) => `line ${d.range.start.line + 1}: ${d.severity === 1 ? 'error' : 'warning'}: ${d.message}`,
    ),
  );
  for (const [name, rule] of rules(parseInstructions(text))) report(name, rule());
  if (failures.length > 0) {
    console.error(failures.join('\n'));
    console.error(`check-dockerfile: ${failures.length} check(s) failed for ${path}`);
    process.exit(1);
  }
  console.log(`check-dockerfile: all checks passed for ${path}`);
}

// Run as a script (not when imported); argv[1] through realpath, as node resolves the main module.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main();
