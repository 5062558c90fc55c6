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
  const rules = renderChart(namespace, {
    set: ['prometheusRule.enabled=true'],
    setString: [`prometheusRule.selector=job="${job}"`],
  }).filter((d) => d.kind === 'PrometheusRule') as { spec?: { groups: { name: string; rules: Rule[] }[] } }[];
  assert.equal(rules.length, 1, 'one PrometheusRule');
  return { groups: rules[0]?.spec?.groups ?? [] };
}

/** Metric names an expression reads: identifiers directly followed by a label matcher or a range. */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1] ?? ''))];
}

/** Every document `helm template` renders from the chart (ci/dev-values.yaml, `--set` and `--set-string`), parsed. */
export function renderChart(
  namespace: string,
  values: { set?: string[]; setString?: string[] },
): { kind?: string; [key: string]: unknown }[] {
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
      ...(values.set ?? []).flatMap((s) => ['--set', s]),
      ...(values.setString ?? []).flatMap((s) => ['--set-string', s]),
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((d): d is { kind?: string } => d !== null);
}

/** A Grafana dashboard panel, as far as the chart's dashboard uses it. */
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; legendFormat?: string }[];
  panels?: DashboardPanel[];
}

/** Every panel of a dashboard, rows' collapsed panels included. */
export function dashboardPanels(dashboard: { panels: DashboardPanel[] }): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * A dashboard expression as Prometheus would receive it: Grafana's variables replaced (`$__rate_interval` by a
 * range, each template variable by the value given).
 */
export function substituteGrafanaVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    if (name === '__rate_interval' || name === '__interval') return '5m';
    const value = values[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}
