import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.js';
import { TestClient, type Response } from '../support/http-client.js';

const FORM = 'identity_provider=entra_id&target=test%3Ateam%3Aapp';

describe('token API: browsers and rebound names', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    port = (h.tokenApi.server.address() as AddressInfo).port;
  });
  after(() => h.close());

  const post = (headers: Record<string, string>): Promise<Response> =>
    new TestClient().request(`http://127.0.0.1:${port}/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: FORM,
    });

  it('DNS rebinding attack: a page on a name that resolves to 127.0.0.1 gets 421, not a token', async () => {
    for (const host of [
      `rebind.evil.example:${port}`,
      `foo.localhost:${port}`,
      `127.0.0.1.nip.io:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port + 1}`,
      `localhost:${port}.evil.example`,
    ]) {
      const res = await post({ host });
      assert.equal(res.status, 421, host);
      assert.doesNotMatch(res.body, /access_token/, host);
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_request', host);
    }
    const health = await new TestClient().get(`http://127.0.0.1:${port}/healthz`, { host: `evil.example:${port}` });
    assert.equal(health.status, 421);
  });

  it('cross-site form post attack: an Origin or cross-site Fetch Metadata gets 403, not a token', async () => {
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port}` },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' },
    ];
    for (const headers of attempts) {
      const res = await post(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(res.body, /access_token/);
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'access_denied');
    }
  });

  it("the app's server-side client on a loopback name still gets its token", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const res = await post({ host });
      assert.equal(res.status, 200, `${host}: ${res.body}`);
      assert.match(res.body, /access_token/);
    }
  });
});
