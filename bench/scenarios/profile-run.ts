/**
 * `--profile`: one more vestibule, started with `node --cpu-prof`, logged in and loaded like target (d), or (with
 * `--profile-target g`) loaded like (g): on the seeded database, each request with the next of (g)'s sessions, so
 * the profile shows the cache-miss path. On SIGTERM it exits cleanly and V8 writes the profile, which is ranked by
 * self time.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../matrix.js';
import type { LoadTool } from '../load.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from '../profile.js';
import type { BenchContext, Target } from '../target.js';
import { loginVestibule, startVestibule } from '../targets/vestibule.js';

export interface ProfileResult {
  /** Which target's load the profiled process served (older saved results have none: (d)). */
  readonly target?: 'd' | 'g';
  readonly rps: number;
  readonly connections: number;
  readonly summary: ProfileSummary;
  /** Where the .cpuprofile was kept (`--profile-out`), or undefined when it went with the temp dir. */
  readonly file: string | undefined;
  /**
   * True when vestibule's drain after SIGTERM ran into its limit ({@link SHUTDOWN_SEC}): something held a
   * listener open with the load stopped, and the profile's idle share includes the wait.
   */
  readonly drainTimedOut?: boolean;
}

/** The profiled vestibule's drain limit on SIGTERM (VESTIBULE_SHUTDOWN_TIMEOUT), seconds. */
const SHUTDOWN_SEC = 5;

export async function profileVestibule(
  ctx: BenchContext,
  o: {
    connections: number;
    durationSec: number;
    tool: LoadTool;
    out?: string | undefined;
    /** (g)'s target: its seeded database (1) and its rotating cookies; undefined profiles (d). */
    rotating?: Target | undefined;
  },
): Promise<ProfileResult> {
  const dir = join(ctx.tmp, 'cpu-profile');
  mkdirSync(dir);
  const g = o.rotating?.rotatingCookies;
  const v = await startVestibule(ctx, {
    name: 'vestibule-profile',
    ports: ctx.ports.vestibuleProfile,
    db: g ? 1 : 3,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
    // node writes the profile only when the process exits by itself: vestibule's own drain limit is kept well
    // inside the grace below, so a drain that waits (it did, now and then, after (g)'s load) still ends in a
    // clean exit, not in SIGKILL and no profile.
    env: { VESTIBULE_SHUTDOWN_TIMEOUT: `${SHUTDOWN_SEC}s` },
  });
  let rps: number;
  try {
    const url = `${v.ingress}/`;
    const target: Target = g
      ? { id: 'g', label: 'profile', url, headers: {}, rotatingCookies: g, pid: undefined }
      : { id: 'd', label: 'profile', url, headers: { cookie: await loginVestibule(v.ingress) }, pid: undefined };
    await measure(target, o.connections, 2, o.tool, ctx.tmp);
    rps = (await measure(target, o.connections, o.durationSec, o.tool, ctx.tmp)).load.rps;
  } finally {
    await v.service.stop((SHUTDOWN_SEC + 10) * 1000);
  }
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (name === undefined) {
    // The report keeps an error's first line: the log's last line goes on it.
    const tail = v.service.logTail(15);
    throw new Error(`vestibule wrote no .cpuprofile; its log ends: ${tail.split('\n').at(-1) ?? ''}\n${tail}`);
  }
  const file = join(dir, name);
  if (o.out !== undefined) copyFileSync(file, o.out);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  return {
    target: g ? 'g' : 'd',
    rps,
    connections: o.connections,
    summary: summarizeProfile(profile, 15),
    file: o.out,
    drainTimedOut: v.service.logTail(50).includes('shutdown timeout reached'),
  };
}
