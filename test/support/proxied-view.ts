import assert from 'node:assert/strict';
import type { Harness } from './harness.js';
import { TestClient } from './http-client.js';
import { echoOf } from './echo.js';

/** A cookie pair of ours as the app would read it: named `vestibule` or `vestibule.…` (names are case-sensitive). */
export const OUR_COOKIE = /(^|;)[ \t]*vestibule(\.[^=;]*)?[ \t]*(=|;|$)/;

/** What the app saw of one proxied request: the status, the Authorization and the Cookie header. */
export interface ProxiedView {
  readonly status: number;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
}

/** Sends one Cookie header to the upstream's /echo route through vestibule and returns what the app saw. */
export async function throughProxy(h: Pick<Harness, 'ingress'>, cookie: string): Promise<ProxiedView> {
  const res = await new TestClient().get(`${h.ingress}/echo/cookies`, { cookie });
  const echo = echoOf(res);
  assert.ok(echo, `not proxied: ${res.status} ${res.body.slice(0, 200)}`);
  return { status: res.status, authorization: echo.headers.authorization, cookie: echo.headers.cookie };
}

/** The request reached the app without a token and without any cookie of ours. */
export function assertAnonymous(r: ProxiedView, label: string): void {
  assert.equal(r.status, 200, label);
  assert.equal(r.authorization, undefined, `${label}: no token`);
  assert.doesNotMatch(r.cookie ?? '', OUR_COOKIE, `${label}: none of our cookies upstream`);
}
