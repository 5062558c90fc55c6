import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra } from '../../mock-entra/server.js';

describe('the start-up log line of the real process', () => {
  it('"vestibule started" shows every listener\'s address, the token API\'s included; no key or secret in any line', async () => {
    const clientId = randomUUID();
    const { privateJwk, publicJwk } = await generateClientJwk();
    const mock = await startMockEntra({
      clients: [
        {
          clientId,
          name: 'local:test:startup-log',
          publicJwks: { keys: [publicJwk] },
          redirectUris: ['http://localhost:7564/oauth2/callback'],
        },
      ],
    });
    const encryptionKey = randomBytes(32).toString('base64');
    const adminToken = randomBytes(32).toString('base64url');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        AZURE_APP_CLIENT_ID: clientId,
        AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
        AZURE_APP_JWK: JSON.stringify(privateJwk),
        VESTIBULE_INGRESS: 'http://localhost:7564',
        VESTIBULE_UPSTREAM: 'http://127.0.0.1:9',
        VESTIBULE_BIND_ADDRESS: '127.0.0.1:0',
        VESTIBULE_ADMIN_BIND_ADDRESS: '127.0.0.1:0',
        VESTIBULE_TOKEN_BIND_ADDRESS: '127.0.0.1:0',
        VESTIBULE_DEVELOPMENT_MODE: 'true',
        VESTIBULE_ENCRYPTION_KEY: encryptionKey,
        VESTIBULE_ADMIN_TOKEN: adminToken,
        VESTIBULE_LOG_LEVEL: 'debug',
      },
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${stderr}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          if (line.includes('"msg":"vestibule started"')) resolve(JSON.parse(line) as Record<string, unknown>);
        });
      });
      const listen = started.listen as Record<string, unknown>;
      for (const name of ['public', 'admin', 'tokenApi']) {
        const list = listen[name] as { address: string; port: number }[];
        assert.ok(
          Array.isArray(list) && list.length > 0,
          `listen.${name} is an address list: ${JSON.stringify(listen[name])}`,
        );
        const [first] = list;
        assert.ok(first);
        assert.equal(first.address, '127.0.0.1');
        assert.ok(first.port > 0);
      }
      assert.ok(!JSON.stringify(started).includes('[redacted]'), JSON.stringify(started));
    } finally {
      const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
      await mock.close();
    }
    const all = lines.join('\n') + stderr;
    for (const secret of [encryptionKey, adminToken, String((privateJwk as { d?: string }).d)]) {
      assert.ok(!all.includes(secret), 'no key or secret in any line');
    }
  });
});
