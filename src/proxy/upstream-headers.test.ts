import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

describe('upstreamHeaders', () => {
  it('drops hop-by-hop headers, and those the Connection header lists, on the way to the app', () => {
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
});
