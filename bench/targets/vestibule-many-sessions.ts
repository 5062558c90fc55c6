/**
 * Targets (e) and (g): vestibule reading from a Redis database that holds many sessions (100 000 in the full
 * run), written with vestibule's own `Sessions` class:
 * - (e) loads one logged-in session, like (d): the cost per request must not grow with the number of sessions;
 * - (g) sends a different seeded session with each request, 10 000 in turn, so vestibule's in-process session
 *   cache rarely helps: every request pays a Redis read, a MAC check and a decryption (the many-users case).
 */
import { SESSION_COOKIE } from '../../src/cookies/our-cookies.js';
import { seedSessions } from '../seed-sessions.js';
import type { BenchContext, Target } from '../target.js';
import { loginVestibule, startVestibule } from './vestibule.js';

/** Sessions (g) cycles through: well above the session cache's capacity. */
const ROTATING = 10_000;

/** The label of (g) for a run seeding `sessions` (also when (g) is skipped). */
export function rotatingLabel(sessions: number): string {
  return `(g) vestibule, ${Math.min(ROTATING, sessions).toLocaleString('en-US')} sessions in turn`;
}

/**
 * Seeds the database once and starts what was asked for: (e) and (g) run in separate vestibule processes, so the
 * cold path's larger heap never weighs on (e)'s figures.
 */
export async function vestibuleManySessions(
  ctx: BenchContext,
  sessions: number,
  want: { e: boolean; g: boolean },
): Promise<{ e?: Target; g?: Target }> {
  const db = 1;
  const seeded = await seedSessions({
    redisUrl: ctx.redis.url(db),
    clientId: ctx.identity.clientId,
    encryptionKey: ctx.identity.encryptionKey,
    count: sessions,
    keepCookies: want.g ? Math.min(ROTATING, sessions) : 0,
  });
  const count = seeded.written.toLocaleString('en-US');
  const out: { e?: Target; g?: Target } = {};
  if (want.e) {
    const v = await startVestibule(ctx, { name: 'vestibule-e', ports: ctx.ports.vestibuleMany, db });
    out.e = {
      id: 'e',
      label: `(e) vestibule, ${count} sessions`,
      url: `${v.ingress}/`,
      headers: { cookie: await loginVestibule(v.ingress) },
      pid: v.service.pid,
      note: `${count} sessions seeded in ${seeded.seconds.toFixed(1)} s`,
    };
  }
  if (want.g) {
    const v = await startVestibule(ctx, { name: 'vestibule-g', ports: ctx.ports.vestibuleCold, db });
    const rotating = seeded.cookieValues.map((value) => `${SESSION_COOKIE}=${value}`);
    out.g = {
      id: 'g',
      label: rotatingLabel(sessions),
      url: `${v.ingress}/`,
      headers: {},
      rotatingCookies: rotating,
      pid: v.service.pid,
      note: `each request carries the next of ${rotating.length.toLocaleString('en-US')} seeded sessions (own process, same database as (e))`,
    };
  }
  return out;
}
