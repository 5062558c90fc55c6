import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';

const root = join(import.meta.dirname, '..');
const mainTs = join(import.meta.dirname, 'main.ts');

describe('standalone mock-entra', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mock-entra-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints --help', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', mainTs, '--help'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^Usage: tsx mock-entra\/main\.ts/);
  });

  it('starts from a config file, prints its URLs as one JSON line, and exits 0 on SIGTERM', async () => {
    const config = join(dir, 'config.json');
    const tenantId = '11111111-2222-4333-8444-555555555555';
    writeFileSync(
      config,
      JSON.stringify({
        tenantId,
        clients: [{ clientId: 'c1', clientSecret: 's1' }],
        accessTokenLifetime: 77,
      }),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, '--port', '0', '--config', config], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await Promise.race([
        new Promise<string>((resolve) => lines.once('line', resolve)),
        exited.then((code) => Promise.reject(new Error(`mock-entra exited early with ${String(code)}`))),
      ]);
      const info = JSON.parse(first) as { url: string; issuer: string; wellKnownUrl: string };
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.issuer, `${info.url}/${tenantId}/v2.0`);
      const discovery = (await (await fetch(info.wellKnownUrl)).json()) as { token_endpoint: string };
      const token = await fetch(discovery.token_endpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'api://c1/.default',
          client_id: 'c1',
          client_secret: 's1',
        }),
      });
      assert.equal(((await token.json()) as { expires_in: number }).expires_in, 77);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('refuses an invalid config', () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ clients: [{ id: 'x' }] }));
    const result = spawnSync(process.execPath, ['--import', 'tsx', mainTs, '--config', config], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid config/);
  });
});
