import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helpText } from '../../src/config/help.js';
import { allSettings } from '../../src/config/settings.js';
import { errorsMarkdown } from '../../src/errors/docs.js';
import { ErrorCodes } from '../../src/errors/registry.js';

describe('documentation stays true to the code', () => {
  it('docs/configuration.md and docs/errors.md are what scripts/gen-docs.ts writes (--check)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-docs.ts', '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('docs/errors.md is the rendering of the error registry, one row per code', () => {
    const have = readFileSync('docs/errors.md', 'utf8');
    assert.equal(have, errorsMarkdown(), 'docs/errors.md is out of date: run npm run docs');
    for (const [code, e] of Object.entries(ErrorCodes)) {
      const row = have.split('\n').find((l) => l.startsWith(`| \`${code}\` | ${e.status}`));
      assert.ok(row, `docs/errors.md has a row for ${code} with status ${e.status}`);
    }
  });

  it('--help and README mention every setting', () => {
    const help = helpText();
    const readme = readFileSync('README.md', 'utf8');
    for (const s of allSettings) {
      assert.ok(help.includes(s.env), `--help lists ${s.env}`);
      assert.ok(readme.includes('docs/configuration.md'), 'README links the configuration reference');
    }
  });

  it('the open-redirect corpus matches its generator', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/generate-open-redirects.ts', '--check'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('vestibule --help prints the settings and exits 0; a bad setting exits 2 naming it', () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /VESTIBULE_INGRESS/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, VESTIBULE_SESSION_MAX_LIFETIME: 'forever' },
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /AZURE_APP_CLIENT_ID is required\. Example: AZURE_APP_CLIENT_ID=/);
    assert.match(bad.stderr, /VESTIBULE_SESSION_MAX_LIFETIME is not a duration/);
  });
});
