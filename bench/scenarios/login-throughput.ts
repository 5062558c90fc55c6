/**
 * Complete logins per second: concurrent browser-like clients, each doing the whole flow (vestibule's
 * /oauth2/login → the mock's authorize page → the form post → vestibule's callback, which stores the session)
 * with a fresh cookie jar every time. The clients run in the runner's process, apart from vestibule and the mock.
 */
import { TestClient } from '../../test/support/http-client.js';
import { login } from '../../test/support/mock-login.js';
import { percentile } from '../stats.js';

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

export async function measureLogins(
  ingress: string,
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
        const { callback } = await login({ ingress }, new TestClient(), { username });
        if (callback.status === 302) durations.push(performance.now() - t0);
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
