/**
 * How the Node targets run. The full benchmark compiles vestibule (and the bare Fastify proxy) with tsc into the
 * run's temp dir and runs the JavaScript, as the container image does: memory then excludes tsx's loader. The
 * smoke run skips the compile and uses tsx, which is quicker to start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { VestibuleCommand } from './target.js';

/** The repository (bench/..), whose Dockerfile says how the image runs. */
const REPO = join(import.meta.dirname, '..');

/** The commands for vestibule and the Fastify proxy, built or under tsx. */
export interface NodeTargets {
  readonly vestibule: VestibuleCommand;
  /** The node flags vestibule runs with (what the memory floor is measured with too). */
  readonly nodeFlags: readonly string[];
  /** The environment vestibule gets from the image (the Dockerfile's ENV, e.g. its allocator); the floor too. */
  readonly nodeEnv: Readonly<Record<string, string>>;
  /** node arguments that run bench/fastify-proxy-server (flags and the script). */
  readonly fastifyProxyArgs: readonly string[];
}

export function tsxTargets(nodeFlags: readonly string[] = [], root = REPO): NodeTargets {
  const image = imageEnvironment(root);
  const flags = nodeFlags.length > 0 ? `sources under tsx, node ${nodeFlags.join(' ')}` : 'sources under tsx';
  return {
    vestibule: {
      command: process.execPath,
      args: [...nodeFlags, '--import', 'tsx', 'src/main.ts'],
      env: image.env,
      description: `${flags}, ${image.description}`,
    },
    nodeFlags,
    nodeEnv: image.env,
    fastifyProxyArgs: ['--import', 'tsx', 'bench/fastify-proxy-server.ts'],
  };
}

/**
 * Compiles src/ and the Fastify proxy to `<tmp>/build` (a package.json marks it ESM; node_modules is linked so
 * packages resolve). Type errors elsewhere in the tree do not stop the emit; a missing output does.
 */
export function buildTargets(root: string, tmp: string, nodeFlags?: readonly string[]): NodeTargets {
  const out = join(tmp, 'build');
  const tsconfig = join(tmp, 'tsconfig.bench.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.build.json'),
      // typeRoots: the config lives in the temp dir, where @types would not be found.
      compilerOptions: {
        outDir: out,
        rootDir: root,
        noEmitOnError: false,
        incremental: false,
        typeRoots: [join(root, 'node_modules/@types')],
      },
      include: [join(root, 'src'), join(root, 'bench/fastify-proxy-server.ts')],
      exclude: [join(root, '**/*.test.ts')],
    }),
  );
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, encoding: 'utf8' });
  const main = join(out, 'src/main.js');
  const proxy = join(out, 'bench/fastify-proxy-server.js');
  if (!existsSync(main) || !existsSync(proxy)) {
    throw new Error(`tsc produced no build:\n${result.stdout}${result.stderr}`);
  }
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', version: '0.0.0-bench' }));
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  const compiled = result.status === 0 ? 'compiled with tsc' : 'compiled with tsc (the tree had type errors)';
  const flags = nodeFlags ?? containerNodeFlags(root);
  const how = nodeFlags === undefined ? 'as in the Dockerfile' : 'given by --node-flags, not the Dockerfile';
  const image = imageEnvironment(root);
  return {
    vestibule: {
      command: process.execPath,
      args: [...flags, main],
      env: image.env,
      description: `${compiled}, node ${flags.length > 0 ? flags.join(' ') : 'without flags'} ${how}, ${image.description}`,
    },
    nodeFlags: flags,
    nodeEnv: image.env,
    fastifyProxyArgs: [proxy],
  };
}

/** The node flags of the image's ENTRYPOINT (`["node", …flags, "dist/src/main.js"]`), so the run matches it. */
export function containerNodeFlags(root: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  if (line === undefined) return [];
  const argv = JSON.parse(line) as string[];
  return argv.slice(1).filter((a) => a.startsWith('--'));
}

/** The runtime (last) stage of the Dockerfile, continuation lines joined. */
function finalStage(root: string): string {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
  const stages = text.split(/^\s*FROM\s/im);
  return stages.length > 1 ? (stages.at(-1) ?? '') : '';
}

/**
 * The variables the image's runtime stage sets with `ENV KEY=value …` (a value plain or in double quotes). Any
 * other form (`ENV KEY value`, single quotes, escapes, `$VAR`) is refused rather than misread: the bench would
 * otherwise run vestibule in an environment other than the image's without saying so.
 */
export function containerEnv(root: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of finalStage(root).matchAll(/^\s*ENV\s+(.*)$/gim)) {
    const text = (line[1] ?? '').trim();
    const pair = /\s*([\w.-]+)=(?:"([^"\\$]*)"|([^\s"'\\$]*))(?=\s|$)/y;
    let at = 0;
    while (at < text.length) {
      pair.lastIndex = at;
      const m = pair.exec(text);
      if (m === null)
        throw new Error(`Dockerfile: the bench cannot read \`ENV ${text}\` (only KEY=value and KEY="value")`);
      env[m[1] ?? ''] = m[2] ?? m[3] ?? '';
      at = pair.lastIndex;
    }
  }
  return env;
}

/** The image's environment as the bench can apply it here, and a sentence for the report that says which. */
export interface ImageEnvironment {
  readonly env: Readonly<Record<string, string>>;
  /** E.g. `env LD_PRELOAD=… MALLOC_CONF=… as in the Dockerfile` (NODE_ENV is reported on its own). */
  readonly description: string;
  /** Libraries the image preloads that this machine lacks (then left out of LD_PRELOAD). */
  readonly missing: readonly string[];
}

/**
 * The Dockerfile's ENV, for vestibule and the memory floor's processes (not the other targets): with the same
 * allocator as the image, the memory readings are the image's. A preloaded library that is not installed here
 * is left out, and the description says so: the run goes on with glibc's malloc instead of failing.
 */
export function imageEnvironment(root: string, exists: (path: string) => boolean = existsSync): ImageEnvironment {
  const env = containerEnv(root);
  const missing: string[] = [];
  if (env.LD_PRELOAD !== undefined) {
    const libs = env.LD_PRELOAD.split(/[\s:]+/).filter((l) => l !== '');
    missing.push(...libs.filter((l) => !exists(l)));
    const kept = libs.filter((l) => exists(l));
    if (kept.length > 0) env.LD_PRELOAD = kept.join(':');
    else delete env.LD_PRELOAD;
  }
  const shown = Object.entries(env).filter(([k]) => k !== 'NODE_ENV');
  const listed = shown.map(([k, v]) => `${k}=${v}`).join(' ');
  let description = shown.length > 0 ? `env ${listed} as in the Dockerfile` : 'no environment from the Dockerfile';
  if (missing.length > 0) {
    description += `, but without the Dockerfile's LD_PRELOAD of ${missing.join(', ')}: not on this machine${missing.some((l) => l.includes('jemalloc')) ? ' (Debian: apt-get install libjemalloc2)' : ''}, so glibc's malloc`;
  }
  return { env, description, missing };
}
