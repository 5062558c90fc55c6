import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Keyring } from '../../src/crypto/keyring.js';
import { openLoginState } from '../../src/login/login-state.js';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { atoms, fuzzParams, RUNS } from '../support/fuzz-settings.js';

// Property-based fuzzing of the login and logout redirect targets and of the callback query: no 5xx (but the
// documented 502 for an IdP's answer), no off-site redirect. Each run costs several requests, so half the runs.

const HALF = Math.ceil(RUNS / 2);

describe('property-based fuzzing of the login flows', () => {
  let h: Harness;
  let keyring: Keyring;
  before(async () => {
    h = await startHarness({ logLevel: 'silent' });
    keyring = new Keyring(Buffer.from(h.encryptionKey, 'base64'));
  });
  after(() => h.close());

  it(`redirect targets (${HALF} runs): the sealed login target and the logout landing stay on the ingress`, async () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(atoms, { maxLength: 10 }).map((a) => a.join('')),
      fc.array(atoms, { maxLength: 10 }).map((a) => `/${a.join('')}`),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (redirect) => {
        const q = encodeURIComponent(redirect);
        const start = await new TestClient().get(`${h.ingress}/oauth2/login?redirect=${q}`, NAVIGATION);
        assert.equal(start.status, 302);
        const line = start.headers.getSetCookie().find((c) => c.startsWith('vestibule.login.')) ?? '';
        const pair = line.slice(0, line.indexOf(';'));
        const sealed = openLoginState(
          keyring,
          pair.slice(0, pair.indexOf('=')),
          pair.slice(pair.indexOf('=') + 1),
          Date.now(),
        );
        assert.ok(sealed);
        assert.equal(new URL(sealed.redirect, h.origin).origin, h.origin, `sealed ${JSON.stringify(sealed.redirect)}`);
        assert.ok(sealed.redirect === '/' || sealed.redirect === redirect);
        const browser = new TestClient();
        const out = await browser.get(`${h.ingress}/oauth2/logout?redirect=${q}`, NAVIGATION);
        const back = await browser.get(out.location ?? '', NAVIGATION);
        const final = await browser.get(back.location ?? '', NAVIGATION);
        assert.equal(final.status, 302);
        assert.equal(new URL(final.location ?? '').origin, h.origin, `landed on ${final.location}`);
      }),
      fuzzParams(HALF),
    );
  });

  /** Stands for the state of the login started in each run (known only at run time). */
  const REAL = '<real-state>';
  const callbackValue = fc.oneof(
    fc.constant(REAL),
    fc.constantFrom('', 'x', 'access_denied', '<b>', 'https://login.evil.example/v2.0'),
    fc.array(atoms, { maxLength: 5 }).map((a) => a.join('')),
  );

  async function fuzzCallback(state: fc.Arbitrary<string>): Promise<void> {
    const param = fc.oneof(
      fc.tuple(fc.constant('state'), state),
      fc.tuple(fc.constantFrom('code', 'iss', 'error', 'error_description', 'session_state'), callbackValue),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(param, { maxLength: 6 }), async (picks) => {
        const browser = new TestClient();
        const start = await browser.get(`${h.ingress}/oauth2/login`, NAVIGATION);
        const real = new URL(start.location ?? '').searchParams.get('state') ?? '';
        const query = picks.map(([n, v]) => `${n}=${encodeURIComponent(v === REAL ? real : v)}`).join('&');
        const res = await browser.get(`${h.ingress}/oauth2/callback?${query}`, NAVIGATION);
        assert.ok(res.status < 500 || res.status === 502, `${res.status} for ?${query}: ${res.body.slice(0, 120)}`);
        assert.ok(
          res.status !== 302 || new URL(res.location ?? '').origin === h.origin,
          `callback redirected to ${res.location}`,
        );
      }),
      fuzzParams(HALF),
    );
  }

  it(`callback queries with cookie-safe states (${HALF} runs): 4xx, 302 on site, or 502 for an IdP answer`, async () => {
    await fuzzCallback(fc.oneof(fc.constant(REAL), fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/)));
  });

  it(`callback queries with any state (${HALF} runs): never a 500`, async () => {
    await fuzzCallback(fc.oneof(fc.constant(REAL), fc.string({ unit: 'grapheme', maxLength: 20 })));
  });
});
