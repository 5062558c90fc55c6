import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { responseHeaders } from './forward.js';
import { connectionListed, isHopByHop } from './hop-by-hop.js';

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
