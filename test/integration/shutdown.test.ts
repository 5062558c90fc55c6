import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { freePort } from '../support/free-port.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

describe('graceful shutdown of the real process', () => {
  let mock: MockEntra;
  let upstream: Upstream;
  before(async () => {
    mock = await startMockEntra({ clients: [{ clientId: 'c0ffee00-0000-4000-8000-000000000001', clientSecret: 's' }] });
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
    await mock.close();
  });

  it('SIGTERM during a slow streamed response: readiness 503, new connections refused, the stream completes, exit 0', async () => {
    const [port, admin, token] = await Promise.all([freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        AZURE_APP_CLIENT_ID: 'c0ffee00-0000-4000-8000-000000000001',
        AZURE_APP_CLIENT_SECRET: 's',
        AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
        VESTIBULE_INGRESS: `http://127.0.0.1:${port}`,
        VESTIBULE_UPSTREAM: upstream.url,
        VESTIBULE_BIND_ADDRESS: `127.0.0.1:${port}`,
        VESTIBULE_ADMIN_BIND_ADDRESS: `127.0.0.1:${admin}`,
        VESTIBULE_TOKEN_BIND_ADDRESS: `127.0.0.1:${token}`,
        VESTIBULE_SHUTDOWN_TIMEOUT: '10s',
        VESTIBULE_DEVELOPMENT_MODE: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      for (let i = 0; i < 100 && !logs.includes('vestibule started'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(logs, /vestibule started/);
      assert.equal((await fetch(`http://127.0.0.1:${admin}/readyz`)).status, 200);

      // 8 chunks, 250 ms apart: about 2 s of streaming.
      const body = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${port}/stream?chunks=8&ms=250`, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      await new Promise((r) => setTimeout(r, 400));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal((await fetch(`http://127.0.0.1:${admin}/readyz`)).status, 503, 'readiness turns 503 at once');
      await assert.rejects(fetch(`http://127.0.0.1:${port}/echo`), 'the public listener no longer accepts');

      const done = await body;
      assert.equal(done.status, 200);
      assert.match(done.text, /chunk 7\ndone\n$/, 'the in-flight stream completed');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.match(logs, /shutting down/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
