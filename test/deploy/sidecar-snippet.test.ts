import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { parse, parseAllDocuments } from 'yaml';

// docs/sidecar.md shows the vestibule container for an app that has its own Deployment. This test takes the
// snippet and the values it claims to match out of the page, validates the snippet as part of a Deployment
// (kubernetes-models, as scripts/check-chart.mjs does for the chart), and renders the chart with those values:
// the container, the pod securityContext and the grace period must be what the chart renders.

const root = fileURLToPath(new URL('../..', import.meta.url));
const helm = join(root, 'node_modules/.bin/helm');
const chart = join(root, 'charts/vestibule');
const doc = readFileSync(join(root, 'docs/sidecar.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'vestibule-sidecar-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The YAML block between `<!-- <name>:begin -->` and `<!-- <name>:end -->`, parsed. */
function markedYaml(text: string, name: string): unknown {
  const m = new RegExp(`<!-- ${name}:begin -->\\s*\`\`\`yaml\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(text);
  assert.ok(m?.[1], `no yaml block marked ${name} in docs/sidecar.md`);
  return parse(m[1]);
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  restartPolicy?: string;
  ports: { name: string; containerPort: number; protocol: string }[];
  env: EnvVar[];
  envFrom: unknown[];
  securityContext: unknown;
  resources: unknown;
  volumeMounts?: unknown[];
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: unknown;
  initContainers: Container[];
  containers?: Container[];
}

const snippet = markedYaml(doc, 'sidecar-snippet') as PodSpec;
const values = markedYaml(doc, 'sidecar-values');

let rendered: PodSpec;
before(() => {
  const valuesFile = join(dir, 'values.yaml');
  writeFileSync(valuesFile, JSON.stringify(values));
  const r = spawnSync(
    helm,
    ['template', 'demo', chart, '--kube-version', '1.29.0', '--set', 'sidecar.mode=native', '--values', valuesFile],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const deployment = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind: string; spec: { template: { spec: PodSpec } } } | null)
    .find((d) => d?.kind === 'Deployment');
  assert.ok(deployment, 'the chart rendered no Deployment');
  rendered = deployment.spec.template.spec;
});

const vestibuleOf = (pod: PodSpec): Container => {
  const found = pod.initContainers.filter((c) => c.name === 'vestibule');
  assert.equal(found.length, 1, 'expected one init container named vestibule');
  return found[0]!;
};

describe('docs/sidecar.md: the sidecar snippet', () => {
  it('is valid in a Deployment (kubernetes-models) as a native sidecar', () => {
    assert.equal(snippet.containers, undefined, 'the snippet adds to the app pod spec; it has no containers');
    const app = {
      name: 'app',
      image: 'registry.example.com/team/web:1.0.0',
      ports: [{ name: 'app', containerPort: 8080 }],
    };
    const labels = { app: 'web' };
    const deployment = new Deployment({
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { ...snippet, containers: [app] } as never },
      },
    });
    assert.doesNotThrow(() => deployment.validate());
    assert.equal(vestibuleOf(snippet).restartPolicy, 'Always');
  });

  it('has the env names and values, in order, that the chart renders', () => {
    const names = (c: Container) => c.env.map((e) => e.name);
    assert.deepEqual(names(vestibuleOf(snippet)), names(vestibuleOf(rendered)));
    assert.deepEqual(vestibuleOf(snippet).env, vestibuleOf(rendered).env);
    assert.deepEqual(vestibuleOf(snippet).envFrom, vestibuleOf(rendered).envFrom);
    for (const e of vestibuleOf(snippet).env)
      if (/KEY|REDIS_URL|TOKEN$|SECRET/.test(e.name))
        assert.ok(e.valueFrom !== undefined, `${e.name} must come from a secretKeyRef, not a literal`);
  });

  it('has the chart’s ports, probe paths and ports, securityContext, resources and no volume', () => {
    const [doc, chartC] = [vestibuleOf(snippet), vestibuleOf(rendered)];
    assert.deepEqual(doc.ports, chartC.ports);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const)
      assert.deepEqual(doc[probe], chartC[probe], probe);
    assert.equal(doc.readinessProbe.httpGet.path, '/readyz');
    assert.deepEqual(doc.securityContext, chartC.securityContext);
    assert.deepEqual(doc.resources, chartC.resources);
    assert.equal(doc.volumeMounts, undefined);
    assert.equal(chartC.volumeMounts, undefined, 'the chart now mounts a volume into vestibule: show it in the doc');
  });

  it('is, field for field, the container the chart renders, with the same pod securityContext and grace period', () => {
    assert.deepEqual(vestibuleOf(snippet), vestibuleOf(rendered));
    assert.deepEqual(snippet.securityContext, rendered.securityContext);
    assert.equal(snippet.terminationGracePeriodSeconds, rendered.terminationGracePeriodSeconds);
  });

  it('would fail on a drifted or invalid snippet', () => {
    const drifted = structuredClone(vestibuleOf(snippet));
    drifted.readinessProbe.httpGet.path = '/healthz';
    assert.notDeepEqual(drifted, vestibuleOf(rendered));
    const invalid = structuredClone(snippet);
    (vestibuleOf(invalid).ports[0] as { containerPort: unknown }).containerPort = 'http';
    const labels = { app: 'web' };
    const deployment = new Deployment({
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { ...invalid, containers: [{ name: 'app', image: 'x' }] } as never },
      },
    });
    assert.throws(() => deployment.validate(), /containerPort/);
  });
});
