/**
 * Complete logins per second: concurrent browser-like clients, each doing the whole flow with a fresh cookie jar
 * every time: vestibule's /oauth2/login → the mock's authorize page → the form post → vestibule's callback, which
 * stores the session; or the same against mod_auth_openidc (a protected URL → the mock → its redirect URI), with
 * the same mock on the same machine. The clients run in the runner's process, apart from the proxies and the mock.
 */
import { TestClient } from '../../test/support/http-client.js';
import { login } from '../../test/support/mock-login.js';
import { percentile } from '../stats.js';
import { apacheLogin } from '../targets/mod-auth-openidc.js';

/** The mock's built-in employees: typed names would add users, and its login page lists every user. */
const USERS = ['kari.nordmann@nav.example', 'ola.hansen@nav.example', 'ingrid.berg@nav.example'];

export interface LoginThroughput {
  readonly logins: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly concurrency: number;
}

/** One complete login with a fresh client; true when it ended in the proxy's redirect back to the app. */
export type LoginOnce = (username: string) => Promise<boolean>;

/** A login through vestibule's own routes. */
export function vestibuleLogin(ingress: string): LoginOnce {
  return async (username) => (await login({ ingress }, new TestClient(), { username })).callback.status === 302;
}

/** A login through mod_auth_openidc (its redirect URI answers 302 to the protected URL). */
export function modAuthOpenidcLogin(base: string): LoginOnce {
  return async (username) => (await apacheLogin(base, new TestClient(), username)).status === 302;
}

export async function measureLogins(
  once: LoginOnce,
  concurrency: number,
  durationSec: number,
): Promise<LoginThroughput> {
  const durations: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationSec * 1000;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        const username = USERS[(w + i) % USERS.length];
        if (await once(username ?? 'kari.nordmann@nav.example')) durations.push(performance.now() - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  return {
    logins: durations.length,
    perSec: durations.length / seconds,
    p50Ms: percentile(durations, 50),
    p99Ms: percentile(durations, 99),
    errors,
    concurrency,
  };
}
