import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { echoOf } from './echo.js';
import { TestClient, type Response } from './http-client.js';
import { rawGet, sendRaw } from './raw-http.js';
import { startUpstream, type Upstream } from './upstream.js';

/** A response as TestClient returns it, for the cases a real upstream does not produce. */
function answer(status: number, body: string): Response {
  return { status, headers: new Headers(), body, location: undefined };
}

describe('echoOf', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  it("reads the test upstream's /echo answer: method, URL and headers as the app saw them", async () => {
    const res = await new TestClient().get(`${upstream.url}/echo/a?b=1`, { 'x-probe': 'p1', cookie: 'a=1' });
    const echo = echoOf(res);
    assert.ok(echo);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.url, '/echo/a?b=1');
    assert.equal(echo.headers['x-probe'], 'p1');
    assert.equal(echo.headers.cookie, 'a=1');
    assert.equal(echo.headers.authorization, undefined);
  });

  it('reads a raw-socket answer the same way', async () => {
    const port = Number(new URL(upstream.url).port);
    const echo = echoOf(await sendRaw(port, rawGet('/echo/raw', [['X-Probe', 'p2']])));
    assert.ok(echo);
    assert.equal(echo.url, '/echo/raw');
    assert.equal(echo.headers['x-probe'], 'p2');
  });

  it('is undefined for answers that did not come from the echo route', async () => {
    const other = await new TestClient().get(`${upstream.url}/hop`);
    assert.equal(other.status, 200);
    assert.equal(echoOf(other), undefined, 'a 200 that is not JSON');
    const body = JSON.stringify({ method: 'GET', url: '/echo', headers: {} });
    assert.ok(echoOf(answer(200, body)), 'control: the same body with 200 is an echo');
    assert.equal(echoOf(answer(302, body)), undefined, 'not a 200');
    assert.equal(echoOf(answer(502, body)), undefined, 'not a 200');
    assert.equal(echoOf(answer(200, '{"error":"x"}')), undefined, 'JSON without url and headers');
    assert.equal(echoOf(answer(200, '{"url":"/echo","headers":null}')), undefined, 'headers not an object');
    assert.equal(echoOf(answer(200, '{"url":1,"headers":{}}')), undefined, 'url not a string');
    assert.equal(echoOf(answer(200, 'null')), undefined);
    assert.equal(echoOf(answer(200, '')), undefined);
  });
});
