import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness, sharedWith } from '../support/harness.js';
import { TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');

async function use(
  h: Harness,
  cookieValue: string,
): Promise<{ bearer: string | undefined; renewed: string | undefined }> {
  const res = await fetch(`${h.ingress}/echo/rotation`, { headers: { cookie: `vestibule.session=${cookieValue}` } });
  const body = (await res.json()) as { headers: Record<string, string> };
  const renewed = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('vestibule.session='))
    ?.split(';')[0]
    ?.slice('vestibule.session='.length);
  return { bearer: body.headers.authorization, renewed };
}

describe('rolling rotation of VESTIBULE_ENCRYPTION_KEY across instances', () => {
  let old: Harness; // still on K1 (knows K2 from phase 1 of the rotation)
  let rolled: Harness; // rolled to K2, K1 as previous
  let done: Harness; // after the rotation: K2 only
  before(async () => {
    old = await startHarness({ env: { VESTIBULE_ENCRYPTION_KEY: K1, VESTIBULE_ENCRYPTION_KEY_PREVIOUS: K2 } });
    const shared = { ...sharedWith(old), encryptionKey: K2 };
    rolled = await startHarness({ shared, env: { VESTIBULE_ENCRYPTION_KEY_PREVIOUS: K1 } });
    done = await startHarness({ shared });
  });
  after(async () => {
    await done.close();
    await rolled.close();
    await old.close();
  });

  it('a session made under the old key keeps working everywhere during the roll and is re-sealed with the new key', async () => {
    const browser = new TestClient();
    await login(old, browser);
    const c1 = browser.cookie('vestibule.session') ?? '';

    assert.equal((await use(done, c1)).bearer, undefined, 'an instance without K1 cannot read a K1 cookie');

    const onRolled = await use(rolled, c1);
    assert.match(onRolled.bearer ?? '', /^Bearer /, 'the rolled instance reads the K1 session');
    assert.ok(onRolled.renewed && onRolled.renewed !== c1, 'and re-issues the cookie under K2');
    const c2 = onRolled.renewed;

    assert.match((await use(old, c2)).bearer ?? '', /^Bearer /, 'an old instance still reads the re-issued cookie');

    // The record itself is re-sealed with K2 on the next write (triggered by this request, off its path).
    assert.match((await use(rolled, c2)).bearer ?? '', /^Bearer /);
    await new Promise((r) => setTimeout(r, 200));
    assert.match((await use(done, c2)).bearer ?? '', /^Bearer /, 'after the roll, K2 alone reads the session');
  });

  it('config: previous keys must be 32-byte base64 as well', async () => {
    await assert.rejects(
      startHarness({ env: { VESTIBULE_ENCRYPTION_KEY_PREVIOUS: 'c2hvcnQ=' } }),
      /VESTIBULE_ENCRYPTION_KEY_PREVIOUS decodes to 5 bytes; needs exactly 32/,
    );
  });
});
