import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { taggedGet } from './tagged-get.js';
import { startUpstream, type Upstream } from './upstream.js';

// Sent straight to the test upstream (no vestibule in between), so what the app saw is what was sent.
describe('taggedGet', () => {
  let upstream: Upstream;
  let target: { origin: string; ingress: string; upstream: Upstream };
  before(async () => {
    upstream = await startUpstream();
    target = { origin: upstream.url, ingress: `${upstream.url}/app`, upstream };
  });
  after(() => upstream.close());

  it('sends the target byte for byte with a fresh X-Probe and the given headers, and finds that very request', async () => {
    const raw = '/echo/a/../b/%2e%2E/%2F?q=%zz&x=1;y';
    const one = await taggedGet(target, raw, [['X-Extra', 'yes']]);
    assert.equal(one.status, 200);
    assert.ok(one.seen);
    assert.equal(one.seen.url, raw, 'no client-side normalisation');
    assert.equal(one.seen.headers['x-extra'], 'yes');
    assert.match(String(one.seen.headers['x-probe']), /^[0-9a-f-]{36}$/);
    assert.equal(one.seen.headers.host, new URL(target.ingress).host);
    const two = await taggedGet(target, raw);
    assert.notEqual(two.seen?.headers['x-probe'], one.seen.headers['x-probe'], 'each call has its own tag');
    assert.equal(upstream.seen.filter((s) => s.url === raw).length, 2);
  });

  it('seen is undefined when the request never reached the app', async () => {
    const refused = await taggedGet(target, '/echo/has space');
    assert.equal(refused.status, 400, "node's parser refuses the request line");
    assert.equal(refused.seen, undefined);
  });
});
