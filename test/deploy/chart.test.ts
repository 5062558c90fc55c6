import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

// Runs scripts/check-chart.mjs (helm lint/template, kubernetes-models, ajv, invariants) on the chart's
// own value sets, then with extra values files (layered on ci/dev-values.yaml) that break one rule each,
// so every layer can fail.

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/check-chart.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vestibule-chart-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
function check(extraValues?: string): { status: number | null; stdout: string; stderr: string } {
  const args = [script];
  if (extraValues !== undefined) {
    const path = join(dir, `values-${++count}.yaml`);
    writeFileSync(path, extraValues);
    args.push('--values', path);
  }
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/check-chart.mjs', () => {
  it('refuses the plain defaults and passes on every ci/*-values.yaml', () => {
    const r = check();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok +refuses +defaults \(no session store, no developmentMode\)$/m);
    for (const set of ['ci/dev-values.yaml', 'ci/full-values.yaml', 'ci/redis-cluster-values.yaml'])
      for (const step of [
        'values.schema.json',
        'helm lint --strict',
        'helm template',
        'kubernetes schemas',
        'invariants',
      ])
        assert.ok(
          r.stdout.split('\n').some((l) => l.startsWith('ok') && l.includes(step) && l.includes(` ${set}`)),
          `no "ok ${step} ${set}" line in:\n${r.stdout}`,
        );
    assert.match(r.stdout, /^ok +invariants +ci\/dev-values\.yaml \(incl\. default resources\)$/m);
    assert.match(r.stdout, /ok +kubernetes schemas +ci\/full-values\.yaml \(.*NetworkPolicy.*ServiceMonitor.*\)/);
    assert.match(r.stdout, /^ok +README values +every key of values\.yaml is listed$/m);
    assert.match(r.stdout, /check-chart: all checks passed for 3 value set\(s\)/);
  });

  it('fails when a value breaks values.schema.json (ajv and helm both reject it)', () => {
    const r = check('resources:\n  requests:\n    cpu: abc\n');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL values\.schema\.json \[ci\/dev-values\.yaml \+ .*\]:\n {2}- values\.resources\.requests\.cpu must match pattern/,
    );
    assert.match(r.stderr, /FAIL helm lint --strict/);
    assert.match(r.stderr, /FAIL helm template/);
  });

  it('fails when a Redis URL with a password is given inline', () => {
    const r = check("redis:\n  url: 'redis://user:secret@redis:6379'\n");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /values\.redis\.url must NOT be valid/);
  });

  it('fails an invariant when vestibule may write to its root filesystem', () => {
    const r = check('securityContext:\n  readOnlyRootFilesystem: false\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL invariants \[.*\]:\n {2}- container vestibule: readOnlyRootFilesystem is not true/);
    assert.doesNotMatch(r.stderr, /FAIL (helm|values|kubernetes)/);
  });

  it('fails an invariant when a secret is written inline into a container env', () => {
    const r = check('app:\n  env:\n    - name: AZURE_APP_CLIENT_SECRET\n      value: hunter2\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /container app: AZURE_APP_CLIENT_SECRET has an inline value; use a secretKeyRef/);
  });

  it('fails the Kubernetes schema check on a field of the wrong type', () => {
    const r = check('app:\n  readinessProbe:\n    periodSeconds: often\n');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL kubernetes schemas .*\n {2}- Deployment demo-vestibule: .*readinessProbe\/periodSeconds must be integer/,
    );
  });

  it('fails when the chart itself refuses the values (Redis without an encryption key)', () => {
    const r = check("redis:\n  url: 'redis://redis:6379'\n");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /encryptionKey\.existingSecret is required when a Redis store is configured/);
  });

  it('fails when more than one replica would keep sessions in memory', () => {
    const r = check('replicaCount: 3\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /replicaCount > 1 needs a shared session store/);
  });

  it('fails without a session store unless developmentMode is true (vestibule would refuse to start)', () => {
    const r = check('developmentMode: false\n');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL helm template \[.*\]:\n {2}- .*no session store: configure redis\.url, redis\.existingSecret, redis\.sentinels or redis\.clusterNodes .*or set developmentMode=true/,
    );
    assert.doesNotMatch(r.stderr, /FAIL values\.schema\.json/);
  });

  it('renders VESTIBULE_DEVELOPMENT_MODE=true with developmentMode and no Redis, and not with Redis', () => {
    const helm = join(root, 'node_modules/.bin/helm');
    const chart = join(root, 'charts/vestibule');
    const render = (...set: string[]) => {
      const r = spawnSync(
        helm,
        ['template', 'demo', chart, '--kube-version', '1.29.0', ...set.flatMap((s) => ['--set', s])],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.match(render('developmentMode=true'), /- name: VESTIBULE_DEVELOPMENT_MODE\n\s+value: "true"\n/);
    const withRedis = render(
      'developmentMode=true',
      'redis.url=redis://redis:6379',
      'encryptionKey.existingSecret=vestibule-session-key',
    );
    assert.match(withRedis, /VESTIBULE_REDIS_URL/);
    assert.doesNotMatch(withRedis, /VESTIBULE_DEVELOPMENT_MODE/);
  });

  it('fails an invariant when a pod without Redis lacks VESTIBULE_DEVELOPMENT_MODE', () => {
    const r = check('vestibule:\n  extraEnv:\n    - name: VESTIBULE_DEVELOPMENT_MODE\n      value: "false"\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no Redis store and no VESTIBULE_DEVELOPMENT_MODE=true: vestibule would refuse to start/);
  });
});
