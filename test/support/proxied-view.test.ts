import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFaultyUpstream, type FaultyUpstream } from './faulty-upstream.js';
import { assertAnonymous, OUR_COOKIE, throughProxy } from './proxied-view.js';
import { startUpstream, type Upstream } from './upstream.js';

describe('proxied view', () => {
  it('OUR_COOKIE finds a cookie named vestibule or vestibule.… anywhere in a Cookie header', () => {
    for (const header of [
      'vestibule=1',
      'vestibule.session=abc',
      'a=1; vestibule.login.0123=x',
      'a=1;vestibule.logins=2.3',
      'a=1; \tvestibule',
      'vestibule.session',
      'vestibule =1',
    ]) {
      assert.match(header, OUR_COOKIE, header);
    }
  });

  it('OUR_COOKIE leaves other cookies alone, also those that only look like ours', () => {
    for (const header of [
      '',
      'a=1',
      'Vestibule=1',
      'VESTIBULE.session=1',
      'xvestibule=1',
      'vestibules=1',
      'my.vestibule.session=1',
      'a=vestibule.session',
      'a=x vestibule=1',
    ]) {
      assert.doesNotMatch(header, OUR_COOKIE, header);
    }
  });

  describe('throughProxy', () => {
    let upstream: Upstream;
    let faulty: FaultyUpstream;
    before(async () => {
      upstream = await startUpstream();
      faulty = await startFaultyUpstream();
    });
    after(async () => {
      await upstream.close();
      await faulty.close();
    });

    it('sends the Cookie header to /echo/cookies and returns status, Authorization and Cookie as the app saw them', async () => {
      const seen = upstream.seen.length;
      const view = await throughProxy({ ingress: upstream.url }, 'a=1; b=2');
      assert.deepEqual(view, { status: 200, authorization: undefined, cookie: 'a=1; b=2' });
      assert.equal(upstream.seen.length, seen + 1);
      assert.equal(upstream.seen.at(-1)?.url, '/echo/cookies');
    });

    it('fails the test when the answer is not the echo route', async () => {
      await assert.rejects(throughProxy({ ingress: faulty.url }, 'a=1'), /not proxied: 200 ok/);
    });
  });

  it('assertAnonymous: passes a 200 without token and without our cookies, fails anything else', () => {
    assertAnonymous({ status: 200, authorization: undefined, cookie: undefined }, 'no cookie');
    assertAnonymous({ status: 200, authorization: undefined, cookie: 'app=1; other=vestibule.session' }, 'app cookie');
    assert.throws(
      () => assertAnonymous({ status: 200, authorization: 'Bearer x', cookie: undefined }, 'with token'),
      /with token: no token/,
    );
    assert.throws(
      () => assertAnonymous({ status: 200, authorization: undefined, cookie: 'app=1; vestibule.session=x' }, 'c'),
      /c: none of our cookies upstream/,
    );
    assert.throws(() => assertAnonymous({ status: 302, authorization: undefined, cookie: undefined }, 'moved'));
  });
});
