import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Keyring } from '../../src/crypto/keyring.js';
import { normaliseOid, storeKeys } from '../../src/session/keys.js';
import type { SessionRecord } from '../../src/session/record.js';
import { RedisStore, redisClientOptions } from '../../src/session/store-redis.js';
import { Sessions } from '../../src/session/sessions.js';
import type { SessionStore } from '../../src/session/store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const MIN = 60_000;
const OID = '5d2f8a7e-3c1b-4e9a-8f00-aa11bb22cc33';

/** The real Redis store, with a hook that runs right after an index is read (where a login can slip in). */
class HookedStore extends RedisStore {
  afterSetMembers: ((key: string) => Promise<void>) | undefined;
  override async setMembers(key: string): Promise<string[]> {
    const members = await super.setMembers(key);
    const hook = this.afterSetMembers;
    this.afterSetMembers = undefined;
    await hook?.(key);
    return members;
  }
}

let redis: RedisServer;
let client: Redis;
let store: HookedStore;
const keys = storeKeys('vestibule:oplogout');

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, redisClientOptions());
  await client.connect();
  store = new HookedStore(client);
});
after(async () => {
  await (store as SessionStore).close();
  await redis.close();
});

function sessionsOn(s: SessionStore): Sessions {
  return new Sessions({ store: s, keyring: new Keyring(randomBytes(32)), keys, now: Date.now });
}

function record(oid: string, sid = randomBytes(8).toString('hex')): SessionRecord {
  const now = Date.now();
  return {
    createdAt: now,
    endsAt: now + 60 * MIN,
    timeoutAt: null,
    refreshedAt: now,
    accessToken: 'at',
    accessTokenExpiresAt: now + 60 * MIN,
    refreshToken: 'rt',
    idToken: null,
    claims: { sub: 'u', oid, sid },
  };
}

describe('operator logout (issue 15)', () => {
  it('upper-case oid attack: an operator who types the oid in upper case still ends the lower-case-indexed sessions', async () => {
    const sessions = sessionsOn(store);
    // Entra issues oid in lower case; the operator pastes it from a portal that shows it in upper case.
    const a = await sessions.create(record(OID));
    const b = await sessions.create(record(OID));
    const ended = await sessions.destroyIndexed(keys.byOid(OID.toUpperCase()));
    assert.equal(ended, 2, 'both sessions ended');
    assert.equal(await sessions.load(a.cookieValue), null);
    assert.equal(await sessions.load(b.cookieValue), null);
  });

  it('login-during-logout race: a session indexed while destroyIndexed runs survives in the index', async () => {
    const sessions = sessionsOn(store);
    const oid = '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e';
    const old = await sessions.create(record(oid));
    let late: Awaited<ReturnType<Sessions['create']>> | undefined;
    // The user's next login completes between the index read and the end of the operator's logout.
    store.afterSetMembers = async () => {
      late = await sessions.create(record(oid));
    };
    const ended = await sessions.destroyIndexed(keys.byOid(oid));
    assert.ok(late, 'the login ran during the logout');
    assert.equal(ended, 1, 'only the session that existed when the logout started was ended');
    assert.equal(await sessions.load(old.cookieValue), null);
    assert.notEqual(await sessions.load(late.cookieValue), null, 'the new session lives');
    const members = await client.smembers(keys.byOid(oid));
    assert.deepEqual(members, [late.session.ticket.id], 'the new session is still indexed: a later logout finds it');
    assert.equal(await sessions.destroyIndexed(keys.byOid(oid)), 1, 'and a second logout ends it');
  });

  it("the admin route's function, destroyByOid, matches any case and refuses what is not a GUID", async () => {
    const sessions = sessionsOn(store);
    const oid = 'c0ffee00-1234-4abc-9def-00000000abcd';
    const s = await sessions.create(record(oid.toUpperCase()));
    assert.deepEqual(await client.smembers(keys.byOid(oid)), [s.session.ticket.id], 'indexed under the lower-case id');
    assert.equal(await sessions.destroyByOid('C0FFEE00-1234-4ABC-9DEF-00000000ABCD'), 1);
    assert.equal(await sessions.load(s.cookieValue), null);
    assert.equal(normaliseOid('C0FFEE00-1234-4ABC-9DEF-00000000ABCD'), oid);
    for (const bad of ['', 'abc', '----', `${oid}0`, ` ${oid}`, oid.replace(/-/g, ''), '*']) {
      assert.equal(normaliseOid(bad), undefined, bad);
      await assert.rejects(sessions.destroyByOid(bad), TypeError);
    }
  });
});
