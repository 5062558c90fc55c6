import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const helm = join(root, 'node_modules/.bin/helm');

export interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The chart's PrometheusRule (Wonderwall's alert), rendered with helm with the alert on and a job selector. */
export function renderRule(namespace: string, job: string): { groups: { name: string; rules: Rule[] }[] } {
  const r = spawnSync(
    helm,
    [
      'template',
      'web',
      join(root, 'charts/vestibule'),
      '--namespace',
      namespace,
      '--kube-version',
      '1.29.0',
      '-f',
      join(root, 'charts/vestibule/ci/dev-values.yaml'),
      '--set',
      'prometheusRule.enabled=true',
      '--set-string',
      `prometheusRule.selector=job="${job}"`,
    ],
    { encoding: 'utf8' },
  );
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const rules = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string; spec?: { groups: { name: string; rules: Rule[] }[] } })
    .filter((d) => d.kind === 'PrometheusRule');
  assert.equal(rules.length, 1, 'one PrometheusRule');
  return { groups: rules[0]?.spec?.groups ?? [] };
}

/** Metric names an expression reads: identifiers directly followed by a label matcher or a range. */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1] ?? ''))];
}
