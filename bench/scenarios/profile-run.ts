/**
 * `--profile`: one more vestibule, started with `node --cpu-prof`, logged in and loaded like target (d); on
 * SIGTERM it exits cleanly and V8 writes the profile, which is ranked by self time.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../matrix.js';
import type { LoadTool } from '../load.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from '../profile.js';
import type { BenchContext } from '../target.js';
import { loginVestibule, startVestibule } from '../targets/vestibule.js';

export interface ProfileResult {
  readonly rps: number;
  readonly connections: number;
  readonly summary: ProfileSummary;
  /** Where the .cpuprofile was kept (`--profile-out`), or undefined when it went with the temp dir. */
  readonly file: string | undefined;
}

export async function profileVestibule(
  ctx: BenchContext,
  o: { connections: number; durationSec: number; tool: LoadTool; out?: string | undefined },
): Promise<ProfileResult> {
  const dir = join(ctx.tmp, 'cpu-profile');
  mkdirSync(dir);
  const v = await startVestibule(ctx, {
    name: 'vestibule-profile',
    ports: ctx.ports.vestibuleProfile,
    db: 3,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  let rps: number;
  try {
    const cookie = await loginVestibule(v.ingress);
    const target = { id: 'd' as const, label: 'profile', url: `${v.ingress}/`, headers: { cookie }, pid: undefined };
    await measure(target, o.connections, 2, o.tool, ctx.tmp);
    rps = (await measure(target, o.connections, o.durationSec, o.tool, ctx.tmp)).load.rps;
  } finally {
    await v.service.stop(15_000);
  }
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (name === undefined) throw new Error('vestibule wrote no .cpuprofile');
  const file = join(dir, name);
  if (o.out !== undefined) copyFileSync(file, o.out);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  return { rps, connections: o.connections, summary: summarizeProfile(profile, 15), file: o.out };
}
