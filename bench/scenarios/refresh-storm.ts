/**
 * The refresh storm: one session whose access token has just expired, hit by many requests at once (1 000 in
 * the full run, each on its own connection from a separate process). Single-flight refresh means the mock
 * Entra ID sees exactly one refresh grant. Runs on its own vestibule instance with the refresh cool-down off.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../load.js';
import type { BenchContext } from '../target.js';
import { loginVestibule, startVestibule } from '../targets/vestibule.js';

export interface RefreshStorm {
  readonly requests: number;
  readonly errors: number;
  /** refresh_token grants the mock counted during the storm. */
  readonly refreshGrants: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Seconds the session's first access token lives: long enough to log in, short enough not to wait long. */
const SHORT_LIFETIME_SEC = 3;

export async function refreshStorm(ctx: BenchContext, requests: number): Promise<RefreshStorm> {
  const v = await startVestibule(ctx, {
    name: 'vestibule-storm',
    ports: ctx.ports.vestibuleStorm,
    db: 2,
    // Refresh exactly at expiry, and no cool-down that could hide a second refresh.
    env: { VESTIBULE_REFRESH_COOLDOWN: '0s', VESTIBULE_REFRESH_MARGIN: '0s' },
  });
  try {
    await ctx.mock.setLifetimes({ accessToken: SHORT_LIFETIME_SEC });
    const loggedInAt = Date.now();
    const cookie = await loginVestibule(v.ingress);
    // The refreshed token lives long, so one refresh is all the storm may cause.
    await ctx.mock.setLifetimes({ accessToken: 3600 });
    await sleep(Math.max(0, loggedInAt + SHORT_LIFETIME_SEC * 1000 + 250 - Date.now()));
    const before = (await ctx.mock.grants()).refresh_token ?? 0;
    const load = await runLoad(
      'autocannon',
      { url: `${v.ingress}/`, connections: requests, amount: requests, durationSec: 0, headers: { cookie } },
      ctx.tmp,
    );
    const after = (await ctx.mock.grants()).refresh_token ?? 0;
    return {
      requests: load.requests,
      errors: load.errors,
      refreshGrants: after - before,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
    };
  } finally {
    await ctx.mock.setLifetimes({ accessToken: 3600 });
    await v.service.stop();
  }
}
