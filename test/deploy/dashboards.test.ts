import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';
import {
  dashboardPanels,
  metricNames,
  renderChart,
  substituteGrafanaVariables,
  type DashboardPanel,
  type Rule,
} from '../support/prometheus-rule.js';

// The chart's Grafana dashboard (grafanaDashboard.enabled) and vestibule's own alerts in the PrometheusRule
// (prometheusRule.vestibuleAlerts), rendered with helm: every expression parses (promtool check rules; the
// dashboard's, with Grafana's variables filled in, as recording rules of a throwaway file), and every metric
// they read is exported by a running vestibule that has seen a login, a proxied request, token API calls and
// a logout. promtool then evaluates a few of the alerts on series named and labelled like the scraped ones.

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vestibule-dashboards-'));
const NAMESPACE = 'team-a';
const JOB = 'team-a/web-vestibule';
const VESTIBULE_ALERTS = [
  'VestibuleLoginFailures',
  'VestibuleRefreshesKept',
  'VestibuleRefreshesEnded',
  'VestibuleStoreUnavailable',
  'VestibuleStoreErrors',
  'VestibuleIdpErrors',
  'VestibuleTokenApiErrors',
  'VestibuleGraphLookupsFailing',
];
// Counters of failures only: exported (HELP and TYPE) from the start, with samples once something failed.
const FAILURE_ONLY = new Set([
  'vestibule_store_errors_total',
  'vestibule_idp_errors_total',
  'vestibule_upstream_errors_total',
  'vestibule_callback_throttled_total',
  // Only when a client leaves before its answer is complete.
  'vestibule_client_gone_total',
]);

interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string }[] };
  panels: DashboardPanel[];
}

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: dir });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Metric families of an exposition (`# TYPE name type`), and the names that have at least one sample. */
function exposition(text: string): { types: Map<string, string>; sampled: Set<string> } {
  const types = new Map<string, string>();
  const sampled = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    else if (line !== '' && !line.startsWith('#')) sampled.add(line.replace(/[{ ].*$/, ''));
  }
  return { types, sampled };
}

/** The family a series name belongs to: a histogram's `_bucket`, `_sum` and `_count` map to its base name. */
function family(name: string, types: Map<string, string>): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m?.[1] !== undefined && types.get(m[1]) === 'histogram' ? m[1] : name;
}

describe('the chart Grafana dashboard and vestibule alerts against a running vestibule', () => {
  let h: Harness;
  let metrics: string;
  let dashboard: Dashboard;
  let configMap: { metadata: { name: string; namespace: string; labels: Record<string, string> } };
  let groups: { name: string; rules: Rule[] }[];
  let alerts: Rule[];
  const rulesFile = join(dir, 'rules.yaml');

  before(async () => {
    h = await startHarness({ logLevel: 'warn' });
    // A login (its callback lands on a proxied page), another proxied request, two token API calls (a miss,
    // then a hit), and the logout.
    const browser = new TestClient();
    await login(h, browser, { redirect: '/echo/a' });
    assert.equal((await browser.get(`${h.ingress}/echo/b`)).status, 200);
    const tokenPort = (h.tokenApi.server.address() as AddressInfo).port;
    for (let i = 0; i < 2; i++) {
      const res = await new TestClient().request(`http://127.0.0.1:${tokenPort}/api/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'identity_provider=entra_id&target=test%3Ateam%3Aapp',
      });
      assert.equal(res.status, 200, res.body);
    }
    assert.equal((await browser.get(`${h.ingress}/oauth2/logout`, NAVIGATION)).status, 302);
    const admin = h.admin.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
    assert.equal(res.status, 200);
    metrics = await res.text();

    const docs = renderChart(NAMESPACE, {
      set: ['prometheusRule.enabled=true', 'grafanaDashboard.enabled=true'],
      setString: [`prometheusRule.selector=job="${JOB}"`],
    });
    const maps = docs.filter((d) => d.kind === 'ConfigMap');
    assert.equal(maps.length, 1, 'one ConfigMap: the dashboard');
    configMap = maps[0] as unknown as typeof configMap;
    const data = (maps[0] as { data: Record<string, string> }).data;
    assert.deepEqual(Object.keys(data), ['vestibule.json']);
    dashboard = JSON.parse(data['vestibule.json'] ?? '') as Dashboard;
    const rules = docs.filter((d) => d.kind === 'PrometheusRule');
    assert.equal(rules.length, 1);
    groups = (rules[0] as unknown as { spec: { groups: typeof groups } }).spec.groups;
    writeFileSync(rulesFile, stringify({ groups }));
    alerts = groups.find((g) => g.name === 'web-vestibule-vestibule')?.rules ?? [];
  });

  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the ConfigMap carries the Grafana sidecar label and the JSON is charts/vestibule/dashboards/vestibule.json', () => {
    assert.equal(configMap.metadata.name, 'web-vestibule-dashboard');
    assert.equal(configMap.metadata.namespace, NAMESPACE);
    assert.equal(configMap.metadata.labels.grafana_dashboard, '1');
    const file = JSON.parse(readFileSync(join(root, 'charts/vestibule/dashboards/vestibule.json'), 'utf8')) as unknown;
    assert.deepEqual(dashboard, file);
  });

  it('labels, annotations and namespace are configurable; off by default', () => {
    const off = renderChart(NAMESPACE, { set: ['prometheusRule.enabled=true'] });
    assert.equal(off.filter((d) => d.kind === 'ConfigMap').length, 0);
    const moved = renderChart(NAMESPACE, {
      set: ['grafanaDashboard.enabled=true', 'grafanaDashboard.labels.grafana_dashboard=null'],
      setString: [
        'grafanaDashboard.namespace=monitoring',
        'grafanaDashboard.labels.dashboards=vestibule',
        'grafanaDashboard.annotations.grafana_folder=Platform',
      ],
    }).filter((d) => d.kind === 'ConfigMap') as unknown as (typeof configMap & {
      metadata: { annotations: Record<string, string> };
    })[];
    assert.equal(moved.length, 1);
    const [cm] = moved;
    assert.ok(cm);
    assert.equal(cm.metadata.namespace, 'monitoring');
    assert.equal(cm.metadata.labels.dashboards, 'vestibule');
    assert.equal(cm.metadata.labels.grafana_dashboard, undefined);
    assert.deepEqual(cm.metadata.annotations, { grafana_folder: 'Platform' });
  });

  it('is a Grafana dashboard: schemaVersion, uid, unique panel ids, gridPos, a Prometheus expr in every target', () => {
    assert.equal(dashboard.uid, 'vestibule');
    assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36, 'schemaVersion');
    const panels = dashboardPanels(dashboard);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) {
      assert.ok(p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos`);
      if (p.type === 'row') continue;
      assert.ok((p.targets ?? []).length > 0, `${p.title} has targets`);
      for (const t of p.targets ?? []) assert.ok(t.expr.trim() !== '', `${p.title} ${t.refId} has an expr`);
    }
    const variables = dashboard.templating.list.map((v) => v.name);
    assert.deepEqual(variables, ['datasource', 'namespace', 'job']);
  });

  it('has the panels a platform team needs', () => {
    const titles = dashboardPanels(dashboard)
      .filter((p) => p.type !== 'row')
      .map((p) => p.title);
    assert.deepEqual(titles, [
      'Logins by outcome',
      'Login failure ratio',
      'Callback throttling, cookie tossing and logouts',
      'Token refreshes by outcome',
      'Session store latency',
      'Session store errors',
      'IdP latency',
      'IdP errors',
      'Graph groups lookups by outcome',
      'Proxied requests by status',
      'Proxy latency',
      'Upstream errors, clients gone and websockets',
      'Token API cache hit rate',
      'Token API requests by status',
      'Token cache entries',
    ]);
  });

  it("keeps Wonderwall's alert and adds vestibule's own, each with for, severity and a runbook hint", () => {
    assert.deepEqual(
      groups.map((g) => [g.name, g.rules.map((r) => r.alert)]),
      [
        ['web-vestibule-login', ['VestibuleHighInternalErrors']],
        ['web-vestibule-vestibule', VESTIBULE_ALERTS],
      ],
    );
    for (const a of alerts) {
      assert.match(a.for, /^\d+m$/, a.alert);
      assert.equal(a.labels.namespace, NAMESPACE, a.alert);
      assert.ok(['critical', 'warning'].includes(a.labels.severity ?? ''), a.alert);
      assert.ok(a.annotations.summary && a.annotations.description, a.alert);
      assert.match(a.annotations.runbook ?? '', /docs\/operations\.md/, a.alert);
      assert.ok(a.expr.includes(`namespace="${NAMESPACE}", job="${JOB}"`), `${a.alert} selects this release`);
    }
    const off = renderChart(NAMESPACE, {
      set: ['prometheusRule.enabled=true', 'prometheusRule.vestibuleAlerts.enabled=false'],
    }).find((d) => d.kind === 'PrometheusRule') as unknown as { spec: { groups: { name: string }[] } };
    assert.deepEqual(
      off.spec.groups.map((g) => g.name),
      ['web-vestibule-login'],
    );
  });

  it('promtool check rules accepts every rule', () => {
    const r = promtool(['check', 'rules', rulesFile]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${VESTIBULE_ALERTS.length + 1} rules found`));
  });

  it('promtool parses every dashboard expression (as recording rules, Grafana variables filled in)', () => {
    const exprs = dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ p, t })));
    assert.ok(exprs.length >= 14);
    const file = join(dir, 'dashboard-rules.yaml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: exprs.map(({ p, t }) => ({
              record: `dashboard:panel_${p.id}:${t.refId.toLowerCase()}`,
              expr: substituteGrafanaVariables(t.expr, { namespace: NAMESPACE, job: '.*', datasource: 'x' }),
            })),
          },
        ],
      }),
    );
    const r = promtool(['check', 'rules', file]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  it('every metric the dashboard and the alerts read is exported by vestibule, and sampled after the traffic', () => {
    const { types, sampled } = exposition(metrics);
    const exprs = [
      ...dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ];
    const names = [...new Set(exprs.flatMap(metricNames))].sort();
    const families = [...new Set(names.map((n) => family(n, types)))];
    for (const name of names) assert.ok(types.has(family(name, types)), `${name} is not on /metrics`);
    for (const name of families.filter((f) => !FAILURE_ONLY.has(f)))
      assert.ok(
        [...sampled].some((s) => family(s, types) === name),
        `${name} has no sample after a login, proxied requests, token API calls and a logout`,
      );
    // Every vestibule_ family but the process metrics is on the dashboard.
    const exported = [...types.keys()].filter((n) => n.startsWith('vestibule_'));
    assert.deepEqual(
      exported.filter((n) => !families.includes(n)),
      [],
      'a vestibule metric the dashboard does not show',
    );
  });

  it('promtool test rules: the store and login alerts fire on series shaped like the scraped ones, and only then', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    const at = (labels: Record<string, string>): string =>
      `{${Object.entries({ ...labels, namespace: NAMESPACE, job: JOB })
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`;
    const expected = (
      name: string,
    ): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } => {
      const a = byName.get(name);
      assert.ok(a, name);
      return { exp_labels: a.labels, exp_annotations: a.annotations };
    };
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          // Redis gone: every readiness ping fails, and so does every other operation.
          interval: '1m',
          input_series: [
            { series: `vestibule_store_errors_total${at({ operation: 'ping' })}`, values: '0+12x30' },
            { series: `vestibule_store_errors_total${at({ operation: 'get' })}`, values: '0+60x30' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'VestibuleStoreUnavailable', exp_alerts: [] },
            {
              eval_time: '12m',
              alertname: 'VestibuleStoreUnavailable',
              exp_alerts: [expected('VestibuleStoreUnavailable')],
            },
            { eval_time: '20m', alertname: 'VestibuleStoreErrors', exp_alerts: [expected('VestibuleStoreErrors')] },
          ],
        },
        {
          // Half the callbacks fail: the login alert fires; a healthy store stays quiet.
          interval: '1m',
          input_series: [
            { series: `vestibule_logins_total${at({ outcome: 'success' })}`, values: '0+10x40' },
            { series: `vestibule_logins_total${at({ outcome: 'exchange_failed' })}`, values: '0+10x40' },
            { series: `vestibule_store_errors_total${at({ operation: 'ping' })}`, values: '0+0x40' },
          ],
          alert_rule_test: [
            { eval_time: '30m', alertname: 'VestibuleLoginFailures', exp_alerts: [expected('VestibuleLoginFailures')] },
            { eval_time: '30m', alertname: 'VestibuleStoreUnavailable', exp_alerts: [] },
          ],
        },
        {
          // A few failed logins among many, and another namespace's failures: nothing fires.
          interval: '1m',
          input_series: [
            { series: `vestibule_logins_total${at({ outcome: 'success' })}`, values: '0+100x40' },
            { series: `vestibule_logins_total${at({ outcome: 'state_mismatch' })}`, values: '0+5x40' },
            {
              series: `vestibule_logins_total${at({ outcome: 'idp_error' })}`.replace(NAMESPACE, 'team-b'),
              values: '0+100x40',
            },
          ],
          alert_rule_test: [{ eval_time: '30m', alertname: 'VestibuleLoginFailures', exp_alerts: [] }],
        },
      ],
    };
    const testFile = join(dir, 'rules.test.yaml');
    writeFileSync(testFile, stringify(tests));
    const r = promtool(['test', 'rules', testFile]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
