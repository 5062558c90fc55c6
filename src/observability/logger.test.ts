import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLoggers } from './logger.js';

function capture(): { log: ReturnType<typeof createLoggers>['log']; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const { log } = createLoggers({ level: 'debug', destination: sink });
  const lines = (): Record<string, unknown>[] =>
    out
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines };
}

describe('log redaction', () => {
  it('censors every token value, whatever its shape (an address list too: the start-up line says tokenApi)', () => {
    const { log, lines } = capture();
    const addresses = [
      { address: '127.0.0.1', family: 'IPv4', port: 7164 },
      { address: '::1', family: 'IPv6', port: 7164 },
    ];
    log.info({ listen: { token: addresses } }, 'vestibule started');
    const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-token-value';
    log.info(
      {
        token: secret,
        a: { token: secret },
        b: { token: [secret] },
        c: { token: { address: '127.0.0.1', family: 'IPv4', port: 1 } },
        d: { token: [{ address: '127.0.0.1', family: 'IPv4', port: 1, value: secret }] },
        e: { token: [{ address: secret, family: 'IPv4', port: 1 }] },
        f: { token: Buffer.from(secret) },
        g: { access_token: secret, refreshToken: secret, code: secret, cookie: secret },
      },
      'leak attempt',
    );
    const [started, leak] = lines();
    assert.ok(started && leak);
    assert.equal((started.listen as { token: unknown }).token, '[redacted]');
    const text = JSON.stringify(leak);
    assert.ok(!text.includes('secret-token-value'), text);
    assert.equal(leak.token, '[redacted]');
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) {
      assert.equal((leak[k] as { token: unknown }).token, '[redacted]', `${k}.token`);
    }
  });
});
