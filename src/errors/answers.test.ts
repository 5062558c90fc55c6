import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sendError } from './answers.js';
import { vestibuleErrorHandler } from './error-handler.js';
import { ErrorCodes, VestibuleError } from './registry.js';

const ingress = { path: '/app/' };

/** A real Fastify instance whose routes answer through sendError exactly as the callers do. */
async function build(): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 1024 });
  app.setErrorHandler(vestibuleErrorHandler);
  app.get('/session', (_q, reply) => sendError(reply, 'SESSION_UNAUTHENTICATED'));
  app.get('/refresh', (_q, reply) => sendError(reply, 'SESSION_REFRESH_UNAVAILABLE'));
  app.get('/callback', (_q, reply) =>
    sendError(reply, 'CALLBACK_IDP_ERROR', {
      ingress,
      detail: 'The identity provider reported an error (access_denied).',
      retryUrl: '/app/oauth2/login?redirect=%2Fx',
    }),
  );
  app.get('/frontchannel', (_q, reply) => sendError(reply, 'FRONTCHANNEL_SID_MISSING'));
  app.get('/store', (_q, reply) => sendError(reply, 'PROXY_STORE_UNAVAILABLE'));
  app.get('/protected', (_q, reply) =>
    sendError(reply, 'PROXY_INSUFFICIENT_SCOPE', {
      detail: 'requires one of the roles admin',
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' },
    }),
  );
  for (const as of ['json', 'text'] as const) {
    app.route({
      method: ['GET', 'HEAD'],
      url: `/login-required/${as}`,
      handler: (request, reply) =>
        sendError(reply, 'PROXY_LOGIN_REQUIRED', {
          as,
          empty: request.method === 'HEAD',
          headers: { location: '/oauth2/login?redirect=%2F' },
          fields: { login_url: '/oauth2/login?redirect=%2F' },
        }),
    });
  }
  app.get('/upstream/:as', (request, reply) =>
    sendError(reply, 'UPSTREAM_TIMEOUT', {
      as: (request.params as { as: 'json' | 'page' }).as,
      ingress,
      fields: { request_id: request.id },
    }),
  );
  app.get('/idp', (_q, reply) =>
    sendError(reply, 'TOKEN_IDP_ERROR', {
      status: 401,
      error: 'invalid_client',
      detail: 'AADSTS7000215',
      fields: { claims: undefined },
    }),
  );
  app.get('/fixed', (_q, reply) => sendError(reply, 'SESSION_UNAUTHENTICATED', { status: 500 }));
  app.get('/thrown/store', () => {
    throw new VestibuleError('STORE_UNAVAILABLE', 'redis get failed');
  });
  app.get('/thrown/navigation', () => {
    throw new VestibuleError('NOT_NAVIGATION', '/oauth2/login');
  });
  app.post('/body', () => ({ ok: true }));
  app.get('/thrown/bug', () => {
    throw new TypeError('boom');
  });
  return app;
}

describe('sendError', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build();
  });
  after(() => app.close());

  it('JSON: status, wire error and message from the registry, /oauth2 cache headers', async () => {
    const res = await app.inject('/session');
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'unauthenticated', error_description: 'no active session' });
    assert.equal(res.headers['cache-control'], 'no-cache, no-store, must-revalidate, private, max-age=0');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const refresh = await app.inject('/refresh');
    assert.equal(refresh.statusCode, 503);
    assert.equal(refresh.headers['retry-after'], '5');
    assert.deepEqual(refresh.json(), {
      error: 'temporarily_unavailable',
      error_description: 'the identity provider could not be reached',
    });
  });

  it('page: the HTML error page with title, detail, retry link and frame denial', async () => {
    const res = await app.inject('/callback');
    assert.equal(res.statusCode, 502);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.match(res.body, /<title>Login failed<\/title>/);
    assert.match(res.body, /reported an error \(access_denied\)/);
    assert.match(res.body, /href="\/app\/oauth2\/login\?redirect=%2Fx"/);
    assert.match(res.body, /href="\/app\/"/);
  });

  it('text: one line, cache-control no-store only', async () => {
    const res = await app.inject('/frontchannel');
    assert.equal(res.statusCode, 400);
    assert.equal(res.body, 'sid is too long\n');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers.pragma, undefined);
  });

  it("the proxy's shapes: store down, protected paths, login required, upstream failures", async () => {
    const store = await app.inject('/store');
    assert.equal(store.statusCode, 503);
    assert.equal(store.headers['retry-after'], '5');
    assert.equal(store.headers['cache-control'], undefined);
    assert.equal(store.body, JSON.stringify({ error: 'session store unavailable, please retry' }));

    const scope = await app.inject('/protected');
    assert.equal(scope.statusCode, 403);
    assert.equal(scope.headers['www-authenticate'], 'Bearer error="insufficient_scope"');
    assert.equal(scope.headers['cache-control'], 'no-store');
    assert.deepEqual(scope.json(), {
      error: 'insufficient_scope',
      error_description: 'requires one of the roles admin',
    });

    const json = await app.inject('/login-required/json');
    assert.equal(json.statusCode, 401);
    assert.equal(json.headers.location, '/oauth2/login?redirect=%2F');
    assert.equal(
      json.body,
      JSON.stringify({ error: 'unauthenticated, please log in', login_url: '/oauth2/login?redirect=%2F' }),
    );
    const text = await app.inject('/login-required/text');
    assert.equal(text.body, 'unauthenticated, please log in: /oauth2/login?redirect=%2F\n');
    const head = await app.inject({ method: 'HEAD', url: '/login-required/json' });
    assert.equal(head.statusCode, 401);
    assert.equal(head.body, '');

    const timeout = await app.inject('/upstream/json');
    assert.equal(timeout.statusCode, 504);
    assert.deepEqual(Object.keys(timeout.json<object>()), ['error', 'error_description', 'request_id']);
    assert.equal(timeout.json<{ error: string }>().error, 'upstream_timeout');
    const page = await app.inject('/upstream/page');
    assert.equal(page.statusCode, 504);
    assert.match(page.body, /<title>Service unavailable<\/title>[\s\S]*did not answer in time/);
  });

  it("passes Entra's status and error through only for pass-through entries", async () => {
    const idp = await app.inject('/idp');
    assert.equal(idp.statusCode, 401);
    assert.equal(idp.body, JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215' }));
    const fixed = await app.inject('/fixed');
    assert.equal(fixed.statusCode, 500, 'a fixed entry refuses an override: the handler answers a bug');
    assert.equal(fixed.json<{ error: string }>().error, 'internal_error');
  });

  it('the error handler: thrown registry codes, NOT_NAVIGATION with error_path, bugs as internal_error', async () => {
    const store = await app.inject('/thrown/store');
    assert.equal(store.statusCode, 503);
    assert.deepEqual(store.json(), {
      error: 'store_unavailable',
      error_description: 'The session store is unavailable: redis get failed',
    });
    const nav = await app.inject('/thrown/navigation');
    assert.equal(nav.statusCode, 401);
    assert.deepEqual(nav.json(), {
      error: 'unauthenticated',
      error_description: `${ErrorCodes.NOT_NAVIGATION.message}: /oauth2/login`,
      error_path: '/oauth2/login',
    });
    const bug = await app.inject('/thrown/bug');
    assert.equal(bug.statusCode, 500);
    assert.deepEqual(Object.keys(bug.json<object>()), ['error', 'request_id']);
    assert.doesNotMatch(bug.body, /boom/);
    const unreadable = await app.inject({
      method: 'POST',
      url: '/body',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    assert.equal(unreadable.statusCode, 400, 'a Fastify client error keeps its status');
    assert.deepEqual(Object.keys(unreadable.json<object>()), ['error', 'request_id']);
    assert.equal(unreadable.json<{ error: string }>().error, 'bad_request');
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/body',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'y'.repeat(2048) }),
    });
    assert.equal(tooLarge.statusCode, 413);
    assert.equal(tooLarge.json<{ error: string }>().error, 'bad_request');
  });
});

describe('the registry', () => {
  it('every entry answering a page has a title; json entries have a wire error', () => {
    for (const [code, e] of Object.entries(ErrorCodes)) {
      const shapes: readonly string[] = e.shapes;
      if (shapes.includes('page')) assert.ok('title' in e && e.title, `${code} has a page title`);
      assert.match(e.error, /^[a-z_ ,]+$/, `${code}: wire error`);
      assert.ok(e.status >= 400 && e.status <= 599, `${code}: status`);
    }
  });
});
