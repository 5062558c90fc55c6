import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { responseHeaders } from './forward.js';
import { connectionListed, isHopByHop } from './hop-by-hop.js';
import { upstreamHeaders } from './upstream-headers.js';

const ctx = {
  accessToken: 'tok',
  remoteAddress: '10.0.0.1',
  trustedPeer: false,
  proto: 'https',
  host: 'app.example',
  requestId: 'r1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
} as const;

describe('hop-by-hop headers', () => {
  it('knows the RFC 9110 list (and Expect, which Node answers itself)', () => {
    for (const h of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
      'expect',
    ])
      assert.ok(isHopByHop(h), h);
    for (const h of ['content-length', 'content-type', 'authorization', 'cookie']) assert.ok(!isHopByHop(h), h);
  });
  it('reads the names a Connection header lists, not its options', () => {
    assert.deepEqual([...(connectionListed('close, X-Foo , x-bar') ?? [])], ['x-foo', 'x-bar']);
    assert.equal(connectionListed('keep-alive'), undefined);
    assert.equal(connectionListed(undefined), undefined);
  });
  it('drops them on the way to the app', () => {
    const out = upstreamHeaders(
      {
        connection: 'keep-alive, x-secret',
        'x-secret': 's',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        'x-ok': '1',
      },
      ctx,
    );
    assert.equal(out['x-secret'], undefined);
    assert.equal(out.connection, undefined);
    assert.equal(out.te, undefined);
    assert.equal(out['transfer-encoding'], undefined);
    assert.equal(out['x-ok'], '1');
  });
  it("keeps the app's cookies without ours, and none when the client lists Cookie as hop-by-hop", () => {
    const cookie = 'theme=dark; vestibule.session=abc; lang=nb';
    assert.equal(upstreamHeaders({ cookie }, ctx).cookie, 'theme=dark; lang=nb');
    assert.equal(upstreamHeaders({ cookie: 'vestibule.session=abc' }, ctx).cookie, undefined);
    const listed = upstreamHeaders({ connection: 'cookie', cookie }, ctx);
    assert.equal(listed.cookie, undefined);
    assert.equal(listed.authorization, 'Bearer tok');
  });
  it('drops them on the way back, keeping spelling, order and every Set-Cookie, ours last (then private)', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Connection',
      'close, X-Internal',
      'X-Internal',
      'x',
      'Keep-Alive',
      'timeout=5',
    ]
      .concat(['Set-Cookie', 'a=1', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'b=2'])
      .map((s) => Buffer.from(s, 'latin1'));
    assert.deepEqual(responseHeaders(raw, ['vestibule.session=v']), [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'set-cookie',
      'vestibule.session=v',
      // Our cookie on the answer keeps it out of shared caches (private-answer.ts).
      'cache-control',
      'private',
      'vary',
      'Cookie',
    ]);
  });
});
