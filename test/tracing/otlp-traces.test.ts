import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startHarness, sharedWith, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login, untilCallback } from '../support/mock-login.js';
import { TestClock } from '../support/clock.js';
import {
  startOtlpGrpcReceiver,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.js';

const HOUR = 3_600_000;

/** The spans of one trace, and a lookup of a span's children by name. */
function tree(spans: readonly ReceivedSpan[], traceId: string) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const children = (parent: ReceivedSpan, name?: string | RegExp) =>
    mine.filter(
      (s) =>
        s.parentSpanId === parent.spanId &&
        (name === undefined || (typeof name === 'string' ? s.name === name : name.test(s.name))),
    );
  return { spans: mine, children };
}

function only<T>(xs: readonly T[], what: string): T {
  assert.equal(xs.length, 1, `exactly one ${what}, got ${xs.length}`);
  return xs[0]!;
}

/** Every attribute value (span and resource) and every raw export body, for "no secret anywhere". */
function assertNowhere(r: OtlpReceiver, secrets: readonly string[]): void {
  const raw = Buffer.concat(r.bodies()).toString('latin1');
  for (const secret of secrets) {
    assert.ok(secret.length >= 8, `the secret under test is real (${secret.length} characters)`);
    assert.ok(!raw.includes(secret), `a secret (${secret.slice(0, 4)}…) is in an exported span`);
  }
  // No JWT (access, ID or refresh token, client assertion) and no query string in any attribute.
  for (const s of r.spans()) {
    for (const [k, v] of Object.entries(s.attributes)) {
      assert.doesNotMatch(String(v), /eyJ[A-Za-z0-9_-]{8,}/, `${s.name} ${k}`);
      assert.doesNotMatch(String(v), /[?&](code|state|session_state|sid)=/, `${s.name} ${k}`);
    }
  }
  assert.doesNotMatch(raw, /eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/, 'no JWT in any export body');
}

/** vestibule exporting over gRPC with OTEL_EXPORTER_OTLP_INSECURE=true, quick batches, and `headers` with every export. */
function startGrpcHarness(endpoint: string, headers: string): Promise<Harness> {
  return startHarness({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_INSECURE: 'true',
      OTEL_EXPORTER_OTLP_HEADERS: headers,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
}

describe('OpenTelemetry traces over OTLP/HTTP (a real receiver, protobuf decoded)', () => {
  const clock = new TestClock();
  let receiver: OtlpReceiver;
  let h: Harness;
  let replica: Harness;
  before(async () => {
    receiver = await startOtlpReceiver();
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%3Dv',
      OTEL_SERVICE_NAME: 'vestibule-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=team,deployment.environment.name=test%20env',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };
    h = await startHarness({ now: clock.now, env });
    replica = await startHarness({ now: clock.now, env, shared: sharedWith(h) });
  });
  after(async () => {
    await replica.close();
    await h.close();
    await receiver.close();
  });

  it('a login: the callback span holds the code redemption and the store calls; nothing secret is recorded', async () => {
    const browser = new TestClient();
    const callbackUrl = await untilCallback(h, browser);
    const callback = await browser.get(callbackUrl, NAVIGATION);
    assert.equal(callback.status, 302);
    const session = browser.cookie('vestibule.session');
    assert.ok(session, 'logged in');

    const spans = await receiver.waitFor((all) =>
      all.some((s) => s.name === 'GET /oauth2/callback' && s.attributes['vestibule.login.outcome'] !== undefined),
    );
    const login = only(
      spans.filter((s) => s.name === 'GET /oauth2/login'),
      'login span',
    );
    assert.equal(login.kind, 'server');
    assert.equal(login.parentSpanId, '', 'a browser without traceparent starts a trace');
    assert.equal(login.attributes['http.response.status_code'], 302);
    assert.equal(login.attributes['vestibule.route'], 'login');

    const cb = only(
      spans.filter((s) => s.name === 'GET /oauth2/callback'),
      'callback span',
    );
    assert.equal(cb.kind, 'server');
    assert.equal(cb.attributes['url.path'], '/oauth2/callback', 'the path, never its query');
    assert.equal(cb.attributes['http.request.method'], 'GET');
    assert.equal(cb.attributes['http.response.status_code'], 302);
    assert.equal(cb.attributes['vestibule.login.outcome'], 'success');
    assert.equal(cb.resource['service.name'], 'vestibule-under-test');
    assert.equal(cb.resource['service.namespace'], 'team');
    assert.equal(cb.resource['deployment.environment.name'], 'test env', '%-decoded');

    const t = tree(spans, cb.traceId);
    const redeem = only(t.children(cb, 'POST idp token'), 'code redemption under the callback');
    assert.equal(redeem.kind, 'client');
    assert.equal(redeem.attributes['http.response.status_code'], 200);
    assert.equal(redeem.attributes['vestibule.idp.endpoint'], 'token');
    assert.equal(redeem.attributes['server.address'], '127.0.0.1');
    const storeOps = t.children(cb, /^redis /).map((s) => s.attributes['db.operation.name']);
    assert.ok(storeOps.includes('lock'), `the state is spent in the store (${storeOps.join(', ')})`);
    assert.ok(storeOps.includes('set'), `the session is written (${storeOps.join(', ')})`);

    assert.equal(receiver.headers()[0]?.['x-collector-key'], 'k=v', 'OTEL_EXPORTER_OTLP_HEADERS, %-decoded');
    assertNowhere(receiver, [
      callbackUrl.searchParams.get('code')!,
      callbackUrl.searchParams.get('state')!,
      session,
      ...browser
        .cookies()
        .map((c) => c.value)
        .filter((v) => v.length >= 8),
    ]);
  });

  it('a proxied request due for refresh: server span under the caller, refresh with the IdP call, upstream client span', async () => {
    const browser = new TestClient();
    await browser.get(await untilCallback(h, browser), NAVIGATION);
    const cookie = `vestibule.session=${browser.cookie('vestibule.session')!}`;
    const first = await fetch(`${h.ingress}/echo/warm`, { headers: { cookie } });
    assert.equal(first.status, 200);
    const oldToken = h.upstream.seen.at(-1)!.headers.authorization!;

    clock.advance(HOUR - 20_000); // inside the refresh margin
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const seen = h.upstream.seen.length;
    const res = await fetch(`${h.ingress}/echo/reports?code=not-a-secret-but-a-query`, {
      headers: { cookie, traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    assert.equal(res.status, 200);
    const upstreamSaw = h.upstream.seen.slice(seen).find((s) => s.url.startsWith('/echo/reports'))!;
    const newToken = upstreamSaw.headers.authorization!;
    assert.notEqual(newToken, oldToken, 'refreshed before forwarding');

    const spans = await receiver.waitFor((all) =>
      all.some((s) => s.traceId === callerTrace && s.name === 'GET upstream'),
    );
    const t = tree(spans, callerTrace);
    const server = only(
      t.spans.filter((s) => s.kind === 'server'),
      'server span in the caller trace',
    );
    assert.equal(server.name, 'GET /*');
    assert.equal(server.parentSpanId, callerSpan, "the caller's traceparent is the parent");
    assert.equal(server.attributes['url.path'], '/echo/reports');
    assert.equal(server.attributes['vestibule.route'], 'proxy');
    assert.equal(server.attributes['http.response.status_code'], 200);

    const refresh = only(t.children(server, 'session refresh'), 'refresh under the request');
    assert.equal(refresh.attributes['vestibule.refresh.outcome'], 'refreshed');
    const grant = only(t.children(refresh, 'POST idp token'), 'refresh grant under the refresh');
    assert.equal(grant.attributes['http.response.status_code'], 200);
    const ops = t.children(refresh, /^redis /).map((s) => s.attributes['db.operation.name']);
    for (const op of ['lock', 'replace', 'unlock']) assert.ok(ops.includes(op), `${op} in ${ops.join(', ')}`);

    const upstream = only(t.children(server, 'GET upstream'), 'upstream client span');
    assert.equal(upstream.kind, 'client');
    assert.equal(upstream.attributes['http.response.status_code'], 200);
    assert.equal(upstream.attributes['url.path'], '/echo/reports');
    assert.equal(
      upstreamSaw.headers.traceparent,
      `00-${callerTrace}-${upstream.spanId}-01`,
      "the app's parent is the upstream span",
    );

    assertNowhere(receiver, [oldToken.slice('Bearer '.length), newToken.slice('Bearer '.length), cookie.slice(18)]);
  });

  it('a request that waits for another replica’s refresh records the lock wait', async () => {
    const browser = new TestClient();
    await browser.get(await untilCallback(h, browser), NAVIGATION);
    const cookie = `vestibule.session=${browser.cookie('vestibule.session')!}`;
    assert.equal((await fetch(`${replica.ingress}/echo/warm`, { headers: { cookie } })).status, 200);

    clock.advance(HOUR - 20_000);
    // The IdP answers the refresh slowly: the other replica's request arrives while the lock is held.
    h.mock.fail({ kind: 'delay', ms: 800, grant: 'refresh_token', times: 1 });
    const holderTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const waiterTrace = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    const holder = fetch(`${h.ingress}/echo/holder`, {
      headers: { cookie, traceparent: `00-${holderTrace}-00f067aa0ba902b7-01` },
    });
    await new Promise((r) => setTimeout(r, 300));
    const waiter = fetch(`${replica.ingress}/echo/waiter`, {
      headers: { cookie, traceparent: `00-${waiterTrace}-00f067aa0ba902b7-01` },
    });
    assert.deepEqual([(await holder).status, (await waiter).status], [200, 200]);

    const spans = await receiver.waitFor((all) =>
      [holderTrace, waiterTrace].every((id) => all.some((s) => s.traceId === id && s.name === 'GET upstream')),
    );
    const w = tree(spans, waiterTrace);
    const refresh = only(
      w.spans.filter((s) => s.name === 'session refresh'),
      'refresh on the waiting replica',
    );
    assert.equal(refresh.attributes['vestibule.refresh.outcome'], 'current', "it took the holder's tokens");
    only(w.children(refresh, 'session refresh lock wait'), 'lock wait under the refresh');
    assert.equal(w.children(refresh, 'POST idp token').length, 0, 'and asked the IdP nothing');
    const hold = tree(spans, holderTrace);
    const holderRefresh = only(
      hold.spans.filter((s) => s.name === 'session refresh'),
      'refresh on the holder',
    );
    assert.equal(hold.children(holderRefresh, 'session refresh lock wait').length, 0, 'the holder did not wait');
  });

  it("a caller's unsampled traceparent is followed: nothing recorded, the app still gets the trace id", async () => {
    const browser = new TestClient();
    await browser.get(await untilCallback(h, browser), NAVIGATION);
    const cookie = `vestibule.session=${browser.cookie('vestibule.session')!}`;
    const dropped = 'cccccccccccccccccccccccccccccccc';
    const seen = h.upstream.seen.length;
    const res = await fetch(`${h.ingress}/echo/unsampled`, {
      headers: { cookie, traceparent: `00-${dropped}-00f067aa0ba902b7-00` },
    });
    assert.equal(res.status, 200);
    const sent = h.upstream.seen.slice(seen).find((s) => s.url === '/echo/unsampled')!;
    assert.match(String(sent.headers.traceparent), new RegExp(`^00-${dropped}-[0-9a-f]{16}-00$`));
    // A later sampled request's spans arrive: had the unsampled one been exported, it would have been by then.
    const marker = 'dddddddddddddddddddddddddddddddd';
    await fetch(`${h.ingress}/echo/marker`, { headers: { cookie, traceparent: `00-${marker}-00f067aa0ba902b7-01` } });
    await receiver.waitFor((all) => all.some((s) => s.traceId === marker && s.name === 'GET upstream'));
    assert.deepEqual(
      receiver.spans().filter((s) => s.traceId === dropped),
      [],
    );
  });

  it('token API grants: a server span with the grant, and the IdP call under it on a cache miss', async () => {
    const tokenApi = `http://127.0.0.1:${(h.tokenApi.server.address() as { port: number }).port}`;
    const ask = () =>
      fetch(`${tokenApi}/api/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity_provider: 'entra_id', target: 'https://graph.microsoft.com/.default' }),
      });
    const first = await ask();
    assert.equal(first.status, 200, await first.clone().text());
    const token = ((await first.json()) as { access_token: string }).access_token;
    assert.equal((await ask()).status, 200);
    const spans = await receiver.waitFor(
      (all) => all.filter((s) => s.name === 'POST /api/v1/token' && s.attributes['vestibule.token.cache']).length >= 2,
    );
    const grants = spans.filter((s) => s.name === 'POST /api/v1/token');
    assert.deepEqual(
      grants.map((s) => [s.attributes['vestibule.token.grant'], s.attributes['vestibule.token.cache']]),
      [
        ['client_credentials', 'miss'],
        ['client_credentials', 'hit'],
      ],
    );
    const [miss, hit] = grants as [ReceivedSpan, ReceivedSpan];
    assert.equal(tree(spans, miss.traceId).children(miss, 'POST idp token').length, 1);
    assert.equal(tree(spans, hit.traceId).children(hit, 'POST idp token').length, 0);
    assertNowhere(receiver, [token]);
  });
});

describe('OpenTelemetry traces over OTLP/gRPC (a real gRPC receiver)', () => {
  let receiver: OtlpReceiver;
  let h: Harness;
  before(async () => {
    receiver = await startOtlpGrpcReceiver();
    h = await startGrpcHarness(receiver.url, 'x-collector-key=grpc%20key');
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('exports the server span of a request, with the headers as metadata and the default service name', async () => {
    const res = await fetch(`${h.ingress}/oauth2/session?sid=not-recorded`);
    assert.equal(res.status, 401);
    const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'GET /oauth2/session'));
    const span = only(
      spans.filter((s) => s.name === 'GET /oauth2/session'),
      'session span',
    );
    assert.equal(span.kind, 'server');
    assert.equal(span.attributes['http.response.status_code'], 401);
    assert.equal(span.attributes['url.path'], '/oauth2/session');
    assert.equal(span.resource['service.name'], 'vestibule');
    assert.equal(receiver.headers()[0]?.['x-collector-key'], 'grpc key');
    assertNowhere(receiver, ['not-recorded']);
  });
});

describe('OTEL_EXPORTER_OTLP_INSECURE never downgrades an https:// gRPC endpoint', () => {
  let receiver: OtlpReceiver;
  let h: Harness;
  before(async () => {
    // A plaintext receiver behind an https:// URL: anything it decodes was sent without TLS.
    receiver = await startOtlpGrpcReceiver();
    h = await startGrpcHarness(receiver.url.replace('http://', 'https://'), 'x-collector-key=grpc-api-key-in-clear');
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('the https:// scheme wins (as the OTLP specification says): no span, no API key, in plaintext', async () => {
    assert.equal((await fetch(`${h.ingress}/oauth2/session`)).status, 401);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(
      receiver.headers().map((x) => x['x-collector-key']),
      [],
      'nothing reached the plaintext receiver',
    );
  });
});

describe('a request that never completes normally still ends its server span', () => {
  let receiver: OtlpReceiver;
  let h: Harness;
  let cookie: string;
  before(async () => {
    receiver = await startOtlpReceiver();
    h = await startHarness({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' } });
    const browser = new TestClient();
    await login(h, browser);
    cookie = browser.cookieHeader(new URL(h.ingress)) ?? '';
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('the client gives up on a slow app: the server span is exported, failed, parent of the upstream span', async () => {
    const traceId = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
    const req = httpRequest(`${h.ingress}/slow?ms=1500`, {
      headers: { cookie, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    req.on('error', () => undefined);
    req.end();
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.kind === 'server'));
    const t = tree(spans, traceId);
    const server = only(
      t.spans.filter((s) => s.kind === 'server'),
      'server span',
    );
    assert.equal(server.name, 'GET /*');
    assert.equal(server.statusCode, 2, 'marked failed');
    assert.equal(server.attributes['http.response.status_code'], undefined, 'nothing was answered');
    await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'GET upstream'));
    only(tree(receiver.spans(), traceId).children(server, 'GET upstream'), 'upstream span under it');
  });

  it('a websocket tunnel: its server span is exported when the tunnel closes, the store spans under it', async () => {
    const traceId = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
    const ws = new WebSocket(`${h.ingress.replace('http', 'ws')}/socket`, {
      headers: { cookie, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    ws.close();
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.kind === 'server'));
    const t = tree(spans, traceId);
    const server = only(
      t.spans.filter((s) => s.kind === 'server'),
      'server span',
    );
    assert.equal(server.attributes['http.response.status_code'], 101);
    assert.equal(server.statusCode, 0, 'a tunnel that was used is no failure');
    // The session read is a store span: without one, the loop below would check nothing.
    assert.ok(
      t.children(server, /^redis /).length > 0,
      `store spans under the tunnel: ${t.spans.map((s) => s.name).join(', ')}`,
    );
    for (const s of t.spans) if (s !== server) assert.equal(s.parentSpanId, server.spanId, `${s.name} under it`);
  });
});
