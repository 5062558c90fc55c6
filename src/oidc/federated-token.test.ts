import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VestibuleError } from '../errors/registry.js';
import { FEDERATED_TOKEN_MAX_BYTES, readFederatedToken } from './federated-token.js';

const dir = mkdtempSync(join(tmpdir(), 'vestibule-federated-'));
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ.c2lnbmF0dXJl';

/** The error `readFederatedToken(path)` throws: its code and message, checked never to hold `secret`. */
async function failure(path: string, secret?: string): Promise<VestibuleError> {
  try {
    await readFederatedToken(path);
  } catch (err) {
    assert.ok(err instanceof VestibuleError);
    assert.equal(err.code, 'CLIENT_ASSERTION_UNAVAILABLE');
    if (secret !== undefined) assert.ok(!err.message.includes(secret), 'the content is never in the message');
    return err;
  }
  assert.fail(`expected ${path} to be refused`);
}

describe('readFederatedToken()', () => {
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the JWT trimmed, and the new content after the file is replaced (as the kubelet rotates it)', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${JWT}\n`);
    assert.equal(await readFederatedToken(file), JWT);
    const next = `${JWT}x`;
    writeFileSync(file, `  ${next}  `);
    assert.equal(await readFederatedToken(file), next);
  });

  it("follows the kubelet's ..data symlink swap", async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, JWT);
    writeFileSync(b, `${JWT}b`);
    const link = join(dir, 'link');
    symlinkSync(a, link);
    assert.equal(await readFederatedToken(link), JWT);
    rmSync(link);
    symlinkSync(b, link);
    assert.equal(await readFederatedToken(link), `${JWT}b`);
  });

  it('names the path and the problem for a missing, empty, oversized, non-JWT or non-file path, never the content', async () => {
    assert.match((await failure(join(dir, 'missing'))).message, /AZURE_FEDERATED_TOKEN_FILE \S+missing does not exist/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, ' \n');
    assert.match((await failure(empty)).message, /is empty$/);
    const big = join(dir, 'big');
    writeFileSync(big, `${JWT}${'a'.repeat(FEDERATED_TOKEN_MAX_BYTES)}`);
    assert.match((await failure(big)).message, /is larger than 16384 bytes/);
    const notJwt = join(dir, 'not-jwt');
    writeFileSync(notJwt, 'client-secret-value-123');
    assert.match((await failure(notJwt, 'client-secret-value-123')).message, /does not hold a JWT \(23 bytes\)/);
    assert.match((await failure(dir)).message, /is not a regular file/);
  });

  it('a FIFO in its place is refused at once, not waited on', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    assert.match((await failure(fifo)).message, /is not a regular file/);
    assert.ok(Date.now() - started < 2000);
  });

  it(
    'an unreadable file is an error naming the system code',
    { skip: process.getuid?.() === 0 ? 'root reads any file' : false },
    async () => {
      const locked = join(dir, 'locked');
      writeFileSync(locked, JWT);
      chmodSync(locked, 0o000);
      assert.match((await failure(locked)).message, /could not be opened \(EACCES\)/);
    },
  );
});
