import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { VestibuleError } from '../errors/registry.js';

/** Larger than any projected service-account token (about 1 KB); a bigger file is not one. */
export const FEDERATED_TOKEN_MAX_BYTES = 16 * 1024;

/** A compact JWS: three base64url parts (the content is Entra's to judge; this only catches the wrong file). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Reads the projected service-account token of Entra workload identity (`AZURE_FEDERATED_TOKEN_FILE`), trimmed,
 * to be sent as the client assertion. Read on every token request: the kubelet rotates the file in place, and a
 * token read once would expire. Bounded ({@link FEDERATED_TOKEN_MAX_BYTES}), opened non-blocking (a FIFO in its
 * place cannot stall a request) and never echoed: a failure names the path and what is wrong, not the content.
 *
 * @throws VestibuleError CLIENT_ASSERTION_UNAVAILABLE when the file is missing, unreadable, empty, too large or
 *   does not hold a JWT.
 */
export async function readFederatedToken(path: string): Promise<string> {
  try {
    return await readOnce(path);
  } catch (err) {
    // The kubelet swaps the `..data` symlink and then deletes the old directory: a read that resolved the old
    // target in between finds nothing. The new target is already in place, so one immediate retry reads it.
    if (err instanceof VestibuleError && (err.cause as { code?: unknown } | undefined)?.code === 'ENOENT') {
      return readOnce(path);
    }
    throw err;
  }
}

async function readOnce(path: string): Promise<string> {
  const fail = (what: string, cause?: unknown): VestibuleError =>
    new VestibuleError('CLIENT_ASSERTION_UNAVAILABLE', `AZURE_FEDERATED_TOKEN_FILE ${path} ${what}`, { cause });
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') throw fail('does not exist', err);
    throw fail(`could not be opened (${typeof code === 'string' ? code : 'unknown error'})`, err);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw fail('is not a regular file');
    const buffer = Buffer.alloc(FEDERATED_TOKEN_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > FEDERATED_TOKEN_MAX_BYTES) throw fail(`is larger than ${FEDERATED_TOKEN_MAX_BYTES} bytes`);
    }
    const token = buffer.subarray(0, length).toString('utf8').trim();
    if (token === '') throw fail('is empty');
    if (!COMPACT_JWS.test(token)) throw fail(`does not hold a JWT (${length} bytes)`);
    return token;
  } catch (err) {
    if (err instanceof VestibuleError) throw err;
    const code = (err as { code?: unknown }).code;
    throw fail(`could not be read (${typeof code === 'string' ? code : 'unknown error'})`, err);
  } finally {
    await handle.close();
  }
}
