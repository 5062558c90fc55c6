import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFaultyUpstream, type FaultyUpstream } from './faulty-upstream.js';
import { rawGet, sendRaw, type RawResponse } from './raw-http.js';

describe('faulty upstream', () => {
  let app: FaultyUpstream;
  let port: number;
  const get = (target: string, timeoutMs = 3000): Promise<RawResponse> => sendRaw(port, rawGet(target), { timeoutMs });
  before(async () => {
    app = await startFaultyUpstream();
    port = Number(new URL(app.url).port);
  });
  after(() => app.close());

  it('listens on 127.0.0.1 and answers /ok (and any other path) with 200 "ok"', async () => {
    assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ['/ok', '/anything']) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, 'ok');
      assert.equal(res.ended, 'complete');
    }
  });

  it('/slow?ms=N answers after N ms', async () => {
    const started = Date.now();
    const res = await get('/slow?ms=300');
    assert.equal(res.body, 'slow');
    assert.ok(Date.now() - started >= 290, `answered after ${Date.now() - started} ms`);
  });

  it('/reset and /close end the connection without an answer, /garbage answers something that is not HTTP', async () => {
    const reset = await get('/reset');
    assert.equal(reset.status, undefined);
    assert.equal(reset.raw, '');
    assert.ok(reset.ended === 'reset' || reset.ended === 'closed', reset.ended);
    const closed = await get('/close');
    assert.deepEqual([closed.status, closed.raw, closed.ended], [undefined, '', 'closed']);
    const garbage = await get('/garbage');
    assert.equal(garbage.status, undefined);
    assert.match(garbage.raw, /^SSH-2\.0-/);
  });

  it('/huge-header sends a 64 KB response header', async () => {
    const res = await get('/huge-header');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-huge')?.length, 64 * 1024);
  });

  it('/cut-body sends half the announced body, then resets; /stall-body sends half, then nothing', async () => {
    const cut = await get('/cut-body');
    assert.equal(cut.status, 200);
    assert.equal(cut.headers.get('content-length'), '1000');
    assert.equal(cut.body, 'a'.repeat(500));
    assert.notEqual(cut.ended, 'complete');
    assert.notEqual(cut.ended, 'timeout');
    const stalled = await get('/stall-body', 800);
    assert.equal(stalled.status, 200);
    assert.equal(stalled.body, 'a'.repeat(500));
    assert.equal(stalled.ended, 'timeout');
  });

  it('counts the requests per path, query aside', async () => {
    const before = app.hits.get('/slow') ?? 0;
    await get('/slow?ms=1');
    await get('/slow?ms=2');
    assert.equal(app.hits.get('/slow'), before + 2);
    assert.equal(app.hits.get('/never-asked'), undefined);
  });

  it('close() ends even with a connection left stalled, and nothing listens afterwards', async () => {
    const other = await startFaultyUpstream();
    const otherPort = Number(new URL(other.url).port);
    const stalled = sendRaw(otherPort, rawGet('/stall-body'), { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 2000, 'close did not wait for the stalled response');
    assert.notEqual((await stalled).ended, 'timeout', 'the stalled connection was cut by close()');
    const after = await sendRaw(otherPort, rawGet('/ok'), { timeoutMs: 1000 });
    assert.equal(after.status, undefined);
    assert.equal(after.ended, 'reset', 'connection refused');
  });
});
