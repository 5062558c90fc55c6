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

/** The commands for vestibule and the Fastify proxy, built or under tsx. */
export interface NodeTargets {
  readonly vestibule: VestibuleCommand;
  /** The node flags vestibule runs with (what the memory floor is measured with too). */
  readonly nodeFlags: readonly string[];
  /** node arguments that run bench/fastify-proxy-server (flags and the script). */
  readonly fastifyProxyArgs: readonly string[];
}

export function tsxTargets(nodeFlags: readonly string[] = []): NodeTargets {
  return {
    vestibule: {
      command: process.execPath,
      args: [...nodeFlags, '--import', 'tsx', 'src/main.ts'],
      description: nodeFlags.length > 0 ? `sources under tsx, node ${nodeFlags.join(' ')}` : 'sources under tsx',
    },
    nodeFlags,
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
  return {
    vestibule: {
      command: process.execPath,
      args: [...flags, main],
      description: `${compiled}, node ${flags.length > 0 ? flags.join(' ') : 'without flags'} ${how}`,
    },
    nodeFlags: flags,
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
