import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compatibilityTable, SETTINGS_END, SETTINGS_START } from '../../src/config/docs.js';
import { helpText } from '../../src/config/help.js';
import { aliasNames, allSettings, ignoredVariables, isComposite } from '../../src/config/settings.js';
import { errorsMarkdown } from '../../src/errors/docs.js';
import { ErrorCodes } from '../../src/errors/registry.js';

describe('documentation stays true to the code', () => {
  it('docs/configuration.md, docs/errors.md and docs/migrating.md are what scripts/gen-docs.ts writes (--check)', () => {
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

  it('docs/migrating.md holds the generated compatibility table between its markers, one row per variable', () => {
    const have = readFileSync('docs/migrating.md', 'utf8');
    const start = have.indexOf(SETTINGS_START);
    const end = have.indexOf(SETTINGS_END);
    assert.ok(start >= 0 && end > start, 'docs/migrating.md keeps its settings markers');
    assert.equal(have.slice(start, end + SETTINGS_END.length), compatibilityTable(), 'run npm run docs');
    const rows = have.slice(start, end).split('\n');
    const row = (env: string, status: string): boolean =>
      rows.some((l) => l.startsWith(`| \`${env}\` |`) && l.includes(`| ${status} |`));
    for (const s of allSettings) {
      for (const a of s.aliases ?? []) {
        // Azure Workload Identity's variables are no peer's: configuration.md lists them, migrating.md does not.
        const peer = a.from === 'Wonderwall' || a.from === 'Texas';
        for (const env of isComposite(a) ? a.envs : [a.env])
          if (peer) assert.ok(row(env, 'renamed'), `${env} is listed as renamed`);
          else assert.ok(!rows.some((l) => l.startsWith(`| \`${env}\` |`)), `${env} is not in the migration table`);
      }
      if (s.sameAs) assert.ok(row(s.env, 'same'), `${s.env} is listed as same`);
      else if (!s.aliases) assert.ok(row(s.env, 'new'), `${s.env} is listed as new`);
    }
    for (const i of ignoredVariables) assert.ok(row(i.env, 'dropped'), `${i.env} is listed as dropped`);
  });

  it("--help and docs/configuration.md show each setting's aliases", () => {
    const help = helpText();
    const conf = readFileSync('docs/configuration.md', 'utf8');
    for (const s of allSettings) {
      for (const alias of aliasNames(s)) {
        assert.ok(help.includes(alias), `--help shows ${alias}`);
        assert.ok(conf.includes(alias), `docs/configuration.md shows ${alias}`);
      }
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

  it('--help and docs/configuration.md show each settings group under one heading', () => {
    const help = helpText();
    const conf = readFileSync('docs/configuration.md', 'utf8');
    for (const group of new Set(allSettings.map((s) => s.group))) {
      assert.equal(help.split('\n').filter((l) => l === `${group}:`).length, 1, `--help has one "${group}:"`);
      assert.equal(
        conf.split('\n').filter((l) => l === `## ${group}`).length,
        1,
        `configuration.md has one ## ${group}`,
      );
    }
    // Every setting sits under its own group's heading.
    let group = '';
    for (const line of help.split('\n')) {
      if (/^[A-Z][\w ]+:$/.test(line)) group = line.slice(0, -1);
      const s = allSettings.find((x) => line === `  ${x.env}` || line.startsWith(`  ${x.env} (default`));
      if (s) assert.equal(group, s.group, `${s.env} is listed under ${s.group}`);
    }
  });

  it("--help describes the admin listener's /metrics and operator endpoint, and ends with no repository path", () => {
    const help = helpText();
    const admin = help.slice(help.indexOf('  VESTIBULE_ADMIN_BIND_ADDRESS'), help.indexOf('  VESTIBULE_ADMIN_TOKEN'));
    assert.match(admin, /\/metrics/);
    assert.match(admin, /operator endpoint DELETE \/admin\/users\/:oid\/sessions/);
    const last = help.trimEnd().split('\n').slice(-3).join('\n');
    assert.doesNotMatch(last, /docs\/|\.md\b/, 'the image holds no docs/ folder');
  });

  it('an unknown option stops with exit 2 and names it; --version still answers', () => {
    for (const args of [['--bogus'], ['--help', '--bogus'], ['-v'], ['serve']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', 'no help text, nothing started');
      assert.match(r.stderr, new RegExp(`unknown option "${args.at(-1)}"`));
      assert.match(r.stderr, /vestibule --help/);
    }
    const v = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
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
