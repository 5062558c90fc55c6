import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startHarness, type Harness } from '../support/harness.js';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login, loggedIn } from '../support/mock-login.js';
import { metricNames, renderRule, type Rule } from '../support/prometheus-rule.js';

// The chart's PrometheusRule (Wonderwall's alert) proven against a running vestibule: the rule is rendered with
// helm, checked by promtool, and every metric its expressions name must be in the /metrics of a harness that
// has seen a login, a failed login and the logouts; promtool then evaluates the alert on series shaped like
// the ones scraped (same names and labels, plus the `job` a scrape adds).

const dir = mkdtempSync(join(tmpdir(), 'vestibule-rule-'));
const NAMESPACE = 'team-a';
const JOB = 'nais-system/monitoring-vestibule';

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `name{a="b",…} value` lines of an exposition, as [series, value]. */
function samples(text: string): [string, number][] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const at = l.lastIndexOf(' ');
      return [l.slice(0, at), Number(l.slice(at + 1))];
    });
}

function labelsOf(series: string): Record<string, string> {
  return Object.fromEntries<string>(
    [...series.matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

describe('the chart PrometheusRule (Wonderwall alert) against a running vestibule', () => {
  let h: Harness;
  let metrics: string;
  const rulesFile = join(dir, 'rules.yaml');
  let rule: Rule;

  before(async () => {
    h = await startHarness();
    // A login and its logout, a local logout, a front-channel call, a session read, and a failed login (the
    // identity provider refuses the code: a 502 here, a 500 in Wonderwall).
    const browser = new TestClient();
    await login(h, browser, { redirect: '/echo/a' });
    assert.equal((await browser.get(`${h.ingress}/oauth2/session`)).status, 200);
    assert.equal((await browser.get(`${h.ingress}/oauth2/logout`, NAVIGATION)).status, 302);
    const local = await loggedIn(h);
    assert.equal(
      (await fetch(`${h.ingress}/oauth2/logout/local`, { method: 'POST', headers: { cookie: local.cookie } })).status,
      204,
    );
    assert.equal((await fetch(`${h.ingress}/oauth2/logout/frontchannel?sid=unknown`)).status, 200);
    h.mock.fail({ kind: 'invalid_grant', grant: 'authorization_code', times: 1 });
    const failed = await login(h, new TestClient());
    assert.ok(failed.callback.status >= 500, `the failed callback answered ${failed.callback.status}`);
    const address = h.admin.server.address();
    assert.ok(address !== null && typeof address === 'object', 'the admin listener is listening');
    const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    assert.equal(res.status, 200);
    metrics = await res.text();

    const rendered = renderRule(NAMESPACE, JOB);
    writeFileSync(rulesFile, stringify(rendered));
    // Wonderwall's group; vestibule's own alerts are the second group (test/deploy/dashboards.test.ts).
    const found = rendered.groups.filter((g) => g.name === 'web-vestibule-login').flatMap((g) => g.rules);
    assert.equal(found.length, 1);
    rule = found[0]!;
  });

  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is Wonderwall's alert for Entra ID sidecars: 500s on /oauth2 endpoints, provider azure, > 30 in 5 m for 5 m", () => {
    assert.equal(rule.expr, `sum(increase(requests_total{job="${JOB}", code="500", provider="azure"}[5m])) > 30`);
    assert.equal(rule.for, '5m');
    assert.deepEqual(rule.labels, { severity: 'critical', namespace: NAMESPACE });
  });

  it('promtool check rules accepts the rendered rule', () => {
    const r = run('promtool', ['check', 'rules', rulesFile]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: \d+ rules found/);
  });

  it('every metric the expression reads is in /metrics after a login and logout, with the labels it selects', () => {
    const names = metricNames(rule.expr);
    assert.deepEqual(names, ['requests_total']);
    const present = new Set(samples(metrics).map(([s]) => s.replace(/\{.*$/, '')));
    for (const name of names) assert.ok(present.has(name), `${name} is missing from /metrics`);
    const errors = samples(metrics).filter(([s]) => s.startsWith('requests_total{') && labelsOf(s).code === '500');
    assert.equal(errors.length, 1, 'the failed callback is the one 500 series');
    const [series, value] = errors[0] ?? ['', 0];
    assert.deepEqual(labelsOf(series), {
      code: '500',
      method: 'GET',
      path: '/oauth2/callback',
      host: new URL(h.ingress).host,
      service: 'wonderwall',
      provider: 'azure',
    });
    assert.equal(value, 1);
  });

  it('and the rest of Wonderwall series are there too, with its labels and buckets', () => {
    const names = new Set(samples(metrics).map(([s]) => s));
    const has = (re: RegExp): boolean => [...names].some((s) => re.test(s));
    assert.ok(
      has(
        /^requests_total\{code="302",method="GET",path="\/oauth2\/login",host="[^"]+",service="wonderwall",provider="azure"\}$/,
      ),
    );
    assert.ok(has(/^requests_total\{code="204",method="POST",path="\/oauth2\/logout\/local",/));
    assert.ok(has(/^requests_total\{code="200",method="GET",path="\/oauth2\/session",/));
    assert.ok(has(/^request_duration_seconds_bucket\{le="1\.5",code="302",method="GET",path="\/oauth2\/callback",/));
    assert.ok(has(/^wonderwall_logins\{amr="",redirect="",hpa="rate",provider="azure"\}$/));
    for (const operation of ['self_initiated', 'local', 'front_channel']) {
      const line = samples(metrics).find(
        ([s]) => s === `wonderwall_logouts{operation="${operation}",hpa="rate",provider="azure"}`,
      );
      assert.equal(line?.[1], 1, operation);
    }
    for (const operation of ['Read', 'Write', 'Delete'])
      assert.ok(
        has(
          new RegExp(`^wonderwall_redis_latency_bucket\\{le="32\\.768",operation="${operation}",provider="azure"\\}$`),
        ),
        operation,
      );
    assert.ok(!has(/^requests_total\{[^}]*path="[^"]*ping/), 'ping is not counted');
    assert.ok(!has(/^requests_total\{[^}]*path="\/\*"/), 'proxied requests are not counted');
  });

  it('promtool test rules: fires on 500s shaped like the scraped series, not on other codes or a flat counter', () => {
    const scraped = samples(metrics)
      .filter(([s]) => s.startsWith('requests_total{'))
      .map(([s]) => labelsOf(s));
    const seriesOf = (labels: Record<string, string>): string =>
      `requests_total{${Object.entries({ ...labels, job: JOB })
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`;
    const error = scraped.find((l) => l.code === '500');
    const ok = scraped.find((l) => l.code === '302');
    assert.ok(error && ok);
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          // 10 server errors a minute: > 30 in 5 m from minute 4, firing 5 m later.
          interval: '1m',
          input_series: [
            { series: seriesOf(error), values: '0+10x30' },
            { series: seriesOf(ok), values: '0+100x30' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: rule.alert, exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: rule.alert,
              exp_alerts: [{ exp_labels: rule.labels, exp_annotations: rule.annotations }],
            },
          ],
        },
        {
          // Redirects by the hundred and a few errors: below the threshold, nothing fires.
          interval: '1m',
          input_series: [
            { series: seriesOf(error), values: '0+2x30' },
            { series: seriesOf(ok), values: '0+1000x30' },
          ],
          alert_rule_test: [{ eval_time: '20m', alertname: rule.alert, exp_alerts: [] }],
        },
        {
          // Another deployment's errors (another job) are not ours.
          interval: '1m',
          input_series: [{ series: seriesOf(error).replace(JOB, 'other/job'), values: '0+50x30' }],
          alert_rule_test: [{ eval_time: '20m', alertname: rule.alert, exp_alerts: [] }],
        },
      ],
    };
    const testFile = join(dir, 'rules.test.yaml');
    writeFileSync(testFile, stringify(tests));
    const r = run('promtool', ['test', 'rules', testFile]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
