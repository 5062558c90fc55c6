import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GroupsResolver, type GroupsResolverDeps, type GroupsSubject } from './groups-resolver.js';

const G = Array.from({ length: 25 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const OID = '11111111-1111-4111-8111-111111111111';

/** A Graph that knows `member` for every user, answering checkMemberGroups; `status` other than 200 fails. */
function graph(member: readonly string[], o: { status?: number; headers?: Record<string, string> } = {}) {
  const calls: { url: string; groupIds: string[]; authorization: string }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string) as { groupIds: string[] };
    calls.push({
      url,
      groupIds: body.groupIds,
      authorization: (init.headers as Record<string, string>).authorization ?? '',
    });
    await Promise.resolve();
    if ((o.status ?? 200) !== 200) return new Response('{}', { status: o.status, headers: o.headers });
    // An answer may name groups that were not asked about: they must not count.
    return Response.json({ value: [...body.groupIds.filter((g) => member.includes(g)), 'not-asked'] });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function resolver(d: Partial<GroupsResolverDeps> & Pick<GroupsResolverDeps, 'fetch'>, t = { now: 1_000_000 }) {
  const outcomes: string[] = [];
  let tokens = 0;
  const r = new GroupsResolver({
    graphUrl: 'https://graph.example',
    wanted: G,
    appToken: () => {
      tokens++;
      return Promise.resolve({ accessToken: `app-token-${tokens}`, expiresIn: 3600 });
    },
    now: () => t.now,
    ttlMs: 60_000,
    onLookup: (o) => outcomes.push(o),
    ...d,
  });
  return { r, outcomes, tokens: () => tokens, t };
}

const session = (endsAt: number, sessionId = 's1'): GroupsSubject => ({
  oid: OID,
  tid: 't',
  scope: { kind: 'session', sessionId, endsAt },
});
const bearerUntil = (expiresAt: number): GroupsSubject => ({
  oid: OID,
  tid: 't',
  scope: { kind: 'bearer', expiresAt },
});

describe('GroupsResolver', () => {
  it('asks checkMemberGroups about the wanted groups in chunks of 20, keeps only asked-about ids', async () => {
    const g = graph([G[3] ?? '', G[22] ?? '']);
    const { r, outcomes } = resolver({ fetch: g.fetch });
    assert.deepEqual(await r.groupsOf(session(2_000_000)), { kind: 'known', ids: [G[3], G[22]], from: 'graph' });
    assert.deepEqual(
      g.calls.map((c) => c.groupIds.length),
      [20, 5],
    );
    assert.equal(g.calls.at(0)?.url, `https://graph.example/v1.0/users/${OID}/checkMemberGroups`);
    assert.equal(g.calls[0]?.authorization, 'Bearer app-token-1');
    assert.deepEqual(outcomes, ['ok']);
  });

  it("keeps a session's answer for the TTL, never past the session's end, and tells sessions apart", async () => {
    const g = graph([G[0] ?? '']);
    const { r, t } = resolver({ fetch: g.fetch });
    await r.groupsOf(session(1_030_000));
    t.now = 1_029_999;
    await r.groupsOf(session(1_030_000));
    assert.equal(g.calls.length, 2, 'one lookup (two chunks)');
    await r.groupsOf(session(1_030_000, 's2'));
    assert.equal(g.calls.length, 4, 'another session of the same user asks again');
    t.now = 1_030_000;
    await r.groupsOf(session(9_000_000));
    assert.equal(g.calls.length, 6, 'asked again once the session would have ended');
    t.now = 1_030_000 + 59_999;
    await r.groupsOf(session(9_000_000));
    assert.equal(g.calls.length, 6);
    t.now = 1_030_000 + 60_000;
    await r.groupsOf(session(9_000_000));
    assert.equal(g.calls.length, 8, 'a long session asks again once the TTL ended: a removed member stops passing');
  });

  it("keeps a bearer caller's answer for the TTL, never past the token's expiry", async () => {
    const g = graph([]);
    const { r, t } = resolver({ fetch: g.fetch });
    await r.groupsOf(bearerUntil(1_010_000));
    t.now = 1_009_999;
    await r.groupsOf(bearerUntil(1_010_000));
    assert.equal(g.calls.length, 2);
    t.now = 1_010_000;
    await r.groupsOf(bearerUntil(9_000_000));
    assert.equal(g.calls.length, 4, 'the token expired: asked again');
    t.now = 1_010_000 + 59_999;
    await r.groupsOf(bearerUntil(9_000_000));
    assert.equal(g.calls.length, 4);
    t.now = 1_010_000 + 60_000;
    await r.groupsOf(bearerUntil(9_000_000));
    assert.equal(g.calls.length, 6, 'the bearer TTL ended');
  });

  it('shares one lookup between concurrent requests of one key, and one app token between lookups', async () => {
    const g = graph([]);
    const { r, tokens } = resolver({ fetch: g.fetch });
    await Promise.all([r.groupsOf(session(2_000_000)), r.groupsOf(session(2_000_000))]);
    assert.equal(g.calls.length, 2);
    await r.groupsOf(session(2_000_000, 'other'));
    assert.equal(tokens(), 1);
  });

  it('a redirect from Graph is a failure: not followed, so another host never answers for Graph', async () => {
    // Over real HTTP with the fetch vestibule uses: "graph" redirects (307 keeps the POST and its body) to a host
    // that would say the user is in every group.
    const elsewhere = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '(none)');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: G }));
    });
    const seen: string[] = [];
    elsewhere.listen(0, '127.0.0.1');
    await once(elsewhere, 'listening');
    const to = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/v1.0/users/${OID}/checkMemberGroups`;
    const redirecting = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: to }).end();
    });
    redirecting.listen(0, '127.0.0.1');
    await once(redirecting, 'listening');
    try {
      const { r, outcomes } = resolver({
        fetch: globalThis.fetch,
        graphUrl: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`,
      });
      const fact = await r.groupsOf(session(2_000_000));
      assert.equal(fact.kind, 'unavailable');
      assert.deepEqual(outcomes, ['error']);
      assert.deepEqual(seen, [], 'the redirect target was never asked');
    } finally {
      redirecting.close();
      elsewhere.close();
    }
  });

  it('a failure is unavailable, counted, and never kept', async () => {
    const g = graph([], { status: 503 });
    const { r, outcomes } = resolver({ fetch: g.fetch });
    const first = await r.groupsOf(session(2_000_000));
    assert.deepEqual(first, {
      kind: 'unavailable',
      reason: 'Microsoft Graph lookup failed: checkMemberGroups answered 503',
    });
    await r.groupsOf(session(2_000_000));
    assert.deepEqual(outcomes, ['error', 'error']);
    assert.equal(r.size, 0);
    const noToken = resolver({ fetch: g.fetch, appToken: () => Promise.reject(new Error('token endpoint down')) });
    assert.deepEqual(await noToken.r.groupsOf(session(2_000_000)), {
      kind: 'unavailable',
      reason: 'Microsoft Graph lookup failed: token endpoint down',
    });
  });

  // Graph throttles per app and tenant; every request sent while throttled extends it. One 429 must hold every
  // user's lookup off until Retry-After, not let each request of each overage user ask again (a stampede).
  it('a 429 holds every lookup off until Retry-After (not only this user), then asks again', async () => {
    const g = graph([], { status: 429, headers: { 'retry-after': '20' } });
    const { r, t, outcomes } = resolver({ fetch: g.fetch, wanted: [G[0] ?? ''] });
    const first = await r.groupsOf(session(9_000_000));
    assert.equal(first.kind, 'unavailable');
    assert.equal(g.calls.length, 1);
    const other = await r.groupsOf({ ...session(9_000_000, 's2'), oid: '22222222-2222-4222-8222-222222222222' });
    assert.equal(other.kind, 'unavailable');
    assert.match(JSON.stringify(other), /throttl/);
    t.now += 19_999;
    await r.groupsOf(session(9_000_000));
    assert.equal(g.calls.length, 1, 'Graph was asked again while it throttled');
    assert.deepEqual(outcomes, ['error', 'error', 'error']);
    t.now += 1;
    await r.groupsOf(session(9_000_000));
    assert.equal(g.calls.length, 2, 'asked again once Retry-After passed');
  });

  it('one deadline bounds the whole lookup, not each chunk of 20 ids', async () => {
    const slow = (async (_url: string, init: RequestInit) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 1_000);
        init.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
      return Response.json({ value: [] });
    }) as typeof globalThis.fetch;
    // 25 ids: two chunks; each alone is under the deadline, both together are not.
    const { r } = resolver({ fetch: slow, timeoutMs: 1_500 });
    const started = performance.now();
    const fact = await r.groupsOf(session(9_000_000));
    assert.equal(fact.kind, 'unavailable');
    assert.ok(performance.now() - started < 1_900, 'the chunks each had the full timeout');
  });

  it('reads at most a small answer: a huge body is unavailable, and is not read to its end', async () => {
    let sent = 0;
    const huge = (async () => {
      await Promise.resolve();
      // A valid answer 64 MiB long (checkMemberGroups for 20 ids is under 1 KiB).
      const chunk = new TextEncoder().encode('"x",'.repeat(256 * 1024));
      let left = 64;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent === 0) c.enqueue(new TextEncoder().encode('{"value":['));
          if (left-- > 0) {
            sent += chunk.byteLength;
            c.enqueue(chunk);
          } else {
            c.enqueue(new TextEncoder().encode('"x"]}'));
            c.close();
          }
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const { r, outcomes } = resolver({ fetch: huge, wanted: [G[0] ?? ''] });
    const fact = await r.groupsOf(session(9_000_000));
    assert.equal(fact.kind, 'unavailable');
    assert.ok(sent <= 2 * 1024 * 1024, `read ${sent} bytes`);
    assert.deepEqual(outcomes, ['error']);
  });

  it('is bounded: the oldest answer goes first', async () => {
    const g = graph([]);
    const { r } = resolver({ fetch: g.fetch, maxEntries: 3, wanted: [G[0] ?? ''] });
    for (const id of ['a', 'b', 'c', 'd']) await r.groupsOf(session(2_000_000, id));
    assert.equal(r.size, 3);
    await r.groupsOf(session(2_000_000, 'd'));
    assert.equal(g.calls.length, 4, 'the newest is kept');
    await r.groupsOf(session(2_000_000, 'a'));
    assert.equal(g.calls.length, 5, 'the oldest was dropped');
  });
});
