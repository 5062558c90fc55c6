// Offline checks of charts/vestibule (no cluster, no network):
//   1. values.schema.json accepts the merged values (ajv, draft-07),
//   2. `helm lint --strict` passes,
//   3. `helm template` renders, and every document passes its Kubernetes schema (kubernetes-models;
//      the ServiceMonitor and PrometheusRule CRDs are checked structurally here),
//   4. the chart's own rules hold on the rendered output (hardening, probes, wiring, no inline secrets; the
//      listeners where their ports say, the forward-auth and token ports out of every Ingress-routed Service
//      and open to the ingress controller only; a NetworkPolicy's egress lets vestibule reach the Redis ports a
//      literal redis.url, redis.sentinels or redis.clusterNodes names; a URL in a Secret cannot be checked; the
//      Grafana dashboard ConfigMap labelled and its JSON a dashboard with an expr in every target),
// and, once, that README.md lists every key of values.yaml.
// Cases: each charts/vestibule/ci/*-values.yaml (dev-values.yaml is the defaults plus developmentMode,
// nais-values.yaml the NAIS profile: Wonderwall's and Texas's ports, probes and Secrets), and
// each `--values <file>` given on the command line (layered on ci/dev-values.yaml; used by the negative
// tests). The plain defaults configure no session store: the check is that rendering refuses them.
// Usage: node scripts/check-chart.mjs [--values extra.yaml]...
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const chart = join(root, 'charts/vestibule');
const helm = join(root, 'node_modules/.bin/helm');
// Native sidecars need 1.29; helm 3.6 would otherwise render against its default v1.20.
const kubeVersion = '1.29.0';

const PROXY_PORT = 7564;
const ADMIN_PORT = 7565;
// vestibule's listeners: the bind-address variable and the container port it must be declared as. The
// token API (VESTIBULE_TOKEN_BIND_ADDRESS) is loopback only and has no container port.
const LISTENERS = [
  { env: 'VESTIBULE_BIND_ADDRESS', port: 'http', required: true },
  { env: 'VESTIBULE_ADMIN_BIND_ADDRESS', port: 'admin', required: true },
  { env: 'VESTIBULE_PROBE_BIND_ADDRESS', port: 'probe' },
  { env: 'VESTIBULE_TOKEN_PROBE_BIND_ADDRESS', port: 'token-probe' },
  { env: 'VESTIBULE_FORWARD_AUTH_BIND_ADDRESS', port: 'forward-auth' },
];
// Listeners that serve /healthz and /readyz themselves (on the proxy port, /healthz would be the app's).
const PROBE_LISTENERS = new Set(['admin', 'probe']);
// Ports that must never be in a Service an Ingress routes to: the token answered to the ingress controller's
// subrequest, and the kubelet's probes.
const NOT_ROUTED = ['forward-auth', 'probe', 'token-probe'];
// Env names that carry secrets: they must come from a Secret (valueFrom or envFrom), never a literal.
const SECRET_ENV = /(SECRET|PASSWORD|PASSWD|TOKEN_KEY|PRIVATE|JWK|ENCRYPTION_KEY|API_KEY|CREDENTIAL|_TOKEN$)/;
// The chart's refusal when neither redis.* nor developmentMode is set (templates/_sidecar.tpl).
const NO_STORE =
  /no session store: configure redis\.url, redis\.existingSecret, redis\.sentinels or redis\.clusterNodes/;
const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$/;

const readYaml = (path) => parse(readFileSync(path, 'utf8')) ?? {};
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's value merge: maps merge key by key, anything else (lists included) replaces, null deletes. */
function mergeValues(base, override) {
  const out = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isObject(value) && isObject(out[key]) ? mergeValues(out[key], value) : value;
  }
  return Object.fromEntries(Object.entries(out).filter(([, value]) => value !== null));
}

function parseArgs(argv) {
  const extra = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '--values' || argv[i] === '-f') && argv[i + 1]) extra.push(resolve(argv[++i]));
    else throw new Error(`unknown argument ${argv[i]} (usage: check-chart.mjs [--values file]...)`);
  }
  return extra;
}

function runHelm(args) {
  const r = spawnSync(helm, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${helm}: ${r.error.message}`);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim(), stdout: r.stdout };
}

// ---------- step 1: values.schema.json with ajv ----------

const mergedValues = (valueFiles) =>
  valueFiles.reduce((acc, f) => mergeValues(acc, readYaml(f)), readYaml(join(chart, 'values.yaml')));

function checkSchema(valueFiles) {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile(JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')));
  const values = mergedValues(valueFiles);
  if (validate(values)) return [];
  return validate.errors.map((e) => `values${e.instancePath.replaceAll('/', '.')} ${e.message}`);
}

// ---------- step 3: Kubernetes schemas ----------

const SERVICE_MONITOR_SPEC_KEYS = new Set([
  'selector',
  'endpoints',
  'namespaceSelector',
  'jobLabel',
  'targetLabels',
  'podTargetLabels',
  'sampleLimit',
]);
const ENDPOINT_KEYS = new Set(['port', 'path', 'interval', 'scrapeTimeout', 'scheme', 'honorLabels', 'relabelings']);

/** monitoring.coreos.com/v1 is a CRD that kubernetes-models does not ship: check the fields we use. */
function serviceMonitorProblems(doc) {
  const p = [];
  const spec = doc.spec;
  if (typeof doc.metadata?.name !== 'string' || doc.metadata.name === '') p.push('metadata.name missing');
  if (!isObject(spec)) return [...p, 'spec missing'];
  for (const k of Object.keys(spec)) if (!SERVICE_MONITOR_SPEC_KEYS.has(k)) p.push(`unknown field spec.${k}`);
  const labels = spec.selector?.matchLabels;
  if (!isObject(labels) || Object.keys(labels).length === 0)
    p.push('spec.selector.matchLabels must be a non-empty map');
  else if (Object.values(labels).some((v) => typeof v !== 'string'))
    p.push('spec.selector.matchLabels values must be strings');
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) return [...p, 'spec.endpoints must be non-empty'];
  spec.endpoints.forEach((ep, i) => {
    for (const k of Object.keys(ep)) if (!ENDPOINT_KEYS.has(k)) p.push(`unknown field spec.endpoints[${i}].${k}`);
    if (typeof ep.port !== 'string' || ep.port === '') p.push(`spec.endpoints[${i}].port must be a port name`);
    if (ep.path !== undefined && !String(ep.path).startsWith('/'))
      p.push(`spec.endpoints[${i}].path must start with /`);
    for (const k of ['interval', 'scrapeTimeout'])
      if (ep[k] !== undefined && !DURATION.test(String(ep[k]))) p.push(`spec.endpoints[${i}].${k} is not a duration`);
  });
  return p;
}

const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'labels', 'annotations']);

/**
 * A PrometheusRule (also a CRD kubernetes-models lacks): its shape here; that its rules parse and fire is
 * promtool's job in test/deploy/prometheus-rule.test.ts.
 */
function prometheusRuleProblems(doc) {
  const p = [];
  if (typeof doc.metadata?.name !== 'string' || doc.metadata.name === '') p.push('metadata.name missing');
  const groups = doc.spec?.groups;
  if (!Array.isArray(groups) || groups.length === 0) return [...p, 'spec.groups must be non-empty'];
  groups.forEach((g, i) => {
    if (typeof g.name !== 'string' || g.name === '') p.push(`spec.groups[${i}].name missing`);
    if (!Array.isArray(g.rules) || g.rules.length === 0) return p.push(`spec.groups[${i}].rules must be non-empty`);
    g.rules.forEach((r, j) => {
      const at = `spec.groups[${i}].rules[${j}]`;
      for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) p.push(`unknown field ${at}.${k}`);
      if (typeof r.expr !== 'string' || r.expr === '') p.push(`${at}.expr must be a non-empty string`);
      if ((typeof r.alert === 'string') === (typeof r.record === 'string')) p.push(`${at} needs alert or record`);
      if (r.for !== undefined && !DURATION.test(String(r.for))) p.push(`${at}.for is not a duration`);
    });
  });
  return p;
}

async function kubernetesProblems(doc) {
  if (doc.apiVersion === 'monitoring.coreos.com/v1' && doc.kind === 'ServiceMonitor')
    return serviceMonitorProblems(doc);
  if (doc.apiVersion === 'monitoring.coreos.com/v1' && doc.kind === 'PrometheusRule')
    return prometheusRuleProblems(doc);
  let mod;
  try {
    mod = await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`);
  } catch {
    return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  }
  try {
    new mod[doc.kind](doc).validate();
    return [];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}

// ---------- step 4: the chart's invariants ----------

// Kubernetes keeps the last of duplicate env entries (vestibule.extraEnv comes after the chart's own).
const envValue = (container, name) => container.env?.findLast((e) => e.name === name);
const portNumber = (container, port) =>
  typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
/** The port of a host:port bind address, or undefined. */
const boundPort = (address) => {
  const m = /:(\d+)$/.exec(address ?? '');
  return m ? Number(m[1]) : undefined;
};

/** Each listener is bound where its container port says; the token API stays on loopback, unexposed. */
function listenerProblems(c) {
  const p = [];
  for (const { env, port, required } of LISTENERS) {
    const bind = envValue(c, env)?.value;
    const declared = portNumber(c, port);
    if (bind === undefined && declared === undefined) {
      if (required) p.push(`${env} is not set`);
      continue;
    }
    if (bind === undefined) p.push(`container port "${port}" has no listener (${env} is not set)`);
    else if (declared === undefined) p.push(`${env}=${bind} has no container port named "${port}"`);
    else if (boundPort(bind) !== declared) p.push(`${env}=${bind} does not match container port "${port}" ${declared}`);
  }
  const numbers = (c.ports ?? []).map((x) => x.containerPort);
  if (new Set(numbers).size !== numbers.length) p.push(`container ports repeat: ${numbers.join(', ')}`);
  const token = envValue(c, 'VESTIBULE_TOKEN_BIND_ADDRESS')?.value;
  if (token !== 'off' && !/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(token ?? ''))
    p.push(`VESTIBULE_TOKEN_BIND_ADDRESS ${token} is not loopback: the token API must not leave the pod`);
  if (boundPort(token) !== undefined && numbers.includes(boundPort(token)))
    p.push(`the token API's port ${boundPort(token)} is declared as a container port`);
  if (envValue(c, 'VESTIBULE_FORWARD_AUTH_BIND_ADDRESS') && envValue(c, 'VESTIBULE_FORWARD_AUTH')?.value !== 'true')
    p.push('VESTIBULE_FORWARD_AUTH_BIND_ADDRESS without VESTIBULE_FORWARD_AUTH=true: vestibule would refuse to start');
  const adminToken = envValue(c, 'VESTIBULE_ADMIN_TOKEN');
  if (adminToken && !adminToken.valueFrom?.secretKeyRef) p.push('VESTIBULE_ADMIN_TOKEN must come from a secretKeyRef');
  for (const entry of (envValue(c, 'VESTIBULE_TRUSTED_PROXIES')?.value ?? '').split(',').map((e) => e.trim()))
    if (/\/0+$/.test(entry))
      p.push(`VESTIBULE_TRUSTED_PROXIES trusts every peer (${entry}): any client could set its own X-Forwarded-For`);
  return p;
}

function containerProblems(c, pod, isDefault, values) {
  const p = [];
  const sc = c.securityContext ?? {};
  if (sc.runAsNonRoot !== true && pod.securityContext?.runAsNonRoot !== true) p.push('runAsNonRoot is not true');
  if (sc.readOnlyRootFilesystem !== true) p.push('readOnlyRootFilesystem is not true');
  if (sc.allowPrivilegeEscalation !== false) p.push('allowPrivilegeEscalation is not false');
  if (!sc.capabilities?.drop?.includes('ALL')) p.push('capabilities.drop does not contain ALL');
  if (portNumber(c, 'http') !== PROXY_PORT) p.push(`port "http" is not ${PROXY_PORT}`);
  if (portNumber(c, 'admin') !== ADMIN_PORT) p.push(`port "admin" is not ${ADMIN_PORT}`);
  p.push(...listenerProblems(c));
  const probePorts = new Map(
    (c.ports ?? []).filter((x) => PROBE_LISTENERS.has(x.name)).map((x) => [x.containerPort, x.name]),
  );
  for (const [probe, path] of [
    ['startupProbe', '/healthz'],
    ['livenessProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
  ]) {
    const get = c[probe]?.httpGet;
    if (get?.path !== path || !probePorts.has(portNumber(c, get.port)))
      p.push(`${probe} must GET ${path} on the admin (${ADMIN_PORT}) or probe listener, never the proxy`);
  }
  if (isDefault) {
    const r = c.resources ?? {};
    if (r.requests?.cpu !== '20m' || r.requests?.memory !== '128Mi')
      p.push('default requests are not cpu 20m / memory 128Mi (what the benchmark measures idle)');
    if (r.limits?.memory !== '256Mi' || r.limits?.cpu !== undefined)
      p.push('default limits are not memory 256Mi without cpu');
  }
  const envFromSecrets = (c.envFrom ?? []).map((e) => e.secretRef?.name).filter((n) => typeof n === 'string');
  // With workload identity the webhook injects the identity (AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE …).
  if (envFromSecrets.length === 0 && values.workloadIdentity?.enabled !== true)
    p.push('no envFrom secretRef for the Entra secret');
  const extra = values.extraEnvFrom ?? {};
  for (const name of extra.secrets ?? [])
    if (!envFromSecrets.includes(name)) p.push(`extraEnvFrom secret ${name} is not loaded with envFrom`);
  const ingress = envValue(c, 'VESTIBULE_INGRESS')?.value ?? '';
  if (ingress === '' || ingress.split(',').some((u) => !/^https?:\/\/[^/\s]+/.test(u)))
    p.push(`VESTIBULE_INGRESS "${ingress}" is not a list of URLs`);
  const usesRedis = ['VESTIBULE_REDIS_URL', 'VESTIBULE_REDIS_SENTINELS', 'VESTIBULE_REDIS_CLUSTER_NODES'].some((n) =>
    envValue(c, n),
  );
  // The store and key may come from the extraEnvFrom Secrets (on NAIS, Wonderwall's): their content is not
  // in the rendered output, so the values say so.
  const storeFromSecrets = extra.providesSessionStore === true && (extra.secrets ?? []).length > 0;
  const keyFromSecrets = extra.providesEncryptionKey === true && (extra.secrets ?? []).length > 0;
  if (usesRedis && storeFromSecrets) p.push('Redis is configured both inline and in the extraEnvFrom Secrets');
  const store = usesRedis || storeFromSecrets;
  if (store && !envValue(c, 'VESTIBULE_ENCRYPTION_KEY')?.valueFrom?.secretKeyRef && !keyFromSecrets)
    p.push('Redis is configured without VESTIBULE_ENCRYPTION_KEY from a Secret');
  const developmentMode = envValue(c, 'VESTIBULE_DEVELOPMENT_MODE')?.value;
  if (!store && developmentMode !== 'true')
    p.push('no Redis store and no VESTIBULE_DEVELOPMENT_MODE=true: vestibule would refuse to start');
  if (store && developmentMode !== undefined) p.push('VESTIBULE_DEVELOPMENT_MODE is set although Redis is configured');
  const shutdown = /^(\d+)s$/.exec(envValue(c, 'VESTIBULE_SHUTDOWN_TIMEOUT')?.value ?? '');
  if (!shutdown) p.push('VESTIBULE_SHUTDOWN_TIMEOUT is not set in seconds');
  else if (!(pod.terminationGracePeriodSeconds >= Number(shutdown[1]) + 5))
    p.push(
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < shutdown timeout ${shutdown[1]}s + 5s`,
    );
  return p.map((m) => `container vestibule: ${m}`);
}

/** Secrets reach containers only through valueFrom/envFrom: no literal for a secret-looking name. */
function inlineSecretProblems(c) {
  const p = [];
  for (const e of c.env ?? []) {
    if (e.value === undefined) continue;
    if (SECRET_ENV.test(e.name)) p.push(`container ${c.name}: ${e.name} has an inline value; use a secretKeyRef`);
    if (/^rediss?:\/\/[^/@]*:[^/@]*@/.test(e.value))
      p.push(`container ${c.name}: ${e.name} holds a URL with a password; use a secretKeyRef`);
  }
  return p;
}

/**
 * The Redis ports vestibule connects to, as far as the rendered pod spec says: each Sentinel and Cluster seed
 * node, else the host of a literal VESTIBULE_REDIS_URL (6379 when it names no port). A URL from a Secret
 * (redis.existingSecret, extraEnvFrom) is not in the rendered output and cannot be checked; nor can the master
 * a Sentinel announces, or the nodes a Cluster announces beyond its seeds.
 */
function redisEndpoints(c) {
  const nodes = ['VESTIBULE_REDIS_SENTINELS', 'VESTIBULE_REDIS_CLUSTER_NODES'].flatMap((name) =>
    (envValue(c, name)?.value ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .map((n) => [`${name} ${n}`, boundPort(n) ?? (name.includes('SENTINEL') ? 26379 : 6379)]),
  );
  if (nodes.length > 0) return nodes;
  const url = envValue(c, 'VESTIBULE_REDIS_URL')?.value;
  if (url === undefined) return [];
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  return [[`VESTIBULE_REDIS_URL ${parsed.protocol}//${parsed.host}`, Number(parsed.port || 6379)]];
}

/** Whether some egress rule of the NetworkPolicy lets TCP traffic out to `port` (a rule without ports: any). */
const egressAllows = (np, port) =>
  (np.spec.egress ?? []).some(
    (rule) =>
      !rule.ports?.length ||
      rule.ports.some(
        (x) =>
          (x.protocol ?? 'TCP') === 'TCP' &&
          (x.port === undefined ||
            x.port === port ||
            (typeof x.port === 'number' && x.port <= port && port <= (x.endPort ?? x.port))),
      ),
  );

/**
 * The Grafana dashboard ConfigMap (grafanaDashboard.enabled): carries the sidecar's labels, and its one file is
 * dashboard JSON whose every panel but a row has Prometheus targets. That the expressions parse and read
 * metrics vestibule exports is test/deploy/dashboards.test.ts's job (promtool and a running vestibule).
 */
function dashboardProblems(configMaps, values) {
  const d = values.grafanaDashboard ?? {};
  if (d.enabled !== true) return configMaps.length > 0 ? ['a ConfigMap without grafanaDashboard.enabled'] : [];
  if (configMaps.length !== 1) return ['grafanaDashboard.enabled must render exactly one ConfigMap'];
  const [cm] = configMaps;
  const p = [];
  for (const [k, v] of Object.entries(d.labels ?? {}))
    if (cm.metadata.labels?.[k] !== v) p.push(`dashboard ConfigMap lacks the label ${k}: "${v}"`);
  if (d.namespace && cm.metadata.namespace !== d.namespace)
    p.push(`dashboard ConfigMap is not in grafanaDashboard.namespace ${d.namespace}`);
  const files = Object.entries(cm.data ?? {});
  if (files.length !== 1 || !files[0][0].endsWith('.json'))
    return [...p, 'dashboard ConfigMap must hold one .json file'];
  let dashboard;
  try {
    dashboard = JSON.parse(files[0][1]);
  } catch (e) {
    return [...p, `dashboard JSON does not parse: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (!Number.isInteger(dashboard.schemaVersion)) p.push('dashboard has no schemaVersion');
  if (typeof dashboard.uid !== 'string' || dashboard.uid === '') p.push('dashboard has no uid');
  const panels = (dashboard.panels ?? []).flatMap((x) => [x, ...(x.panels ?? [])]);
  if (panels.length === 0) p.push('dashboard has no panels');
  for (const panel of panels.filter((x) => x.type !== 'row'))
    if (!Array.isArray(panel.targets) || panel.targets.length === 0 || panel.targets.some((t) => !t.expr))
      p.push(`dashboard panel "${panel.title}" has a target without expr`);
  return p;
}

function invariantProblems(docs, isDefault, values) {
  const p = [];
  const byKind = (kind) => docs.filter((d) => d.kind === kind);
  if (byKind('Secret').length > 0) p.push('the chart must not render Secrets (secrets come from existing ones)');
  const deployments = byKind('Deployment');
  if (deployments.length !== 1) return [...p, 'expected exactly one Deployment'];
  const [deployment] = deployments;
  // The Service the Ingress routes to bears the Deployment's name; the forward-auth listener has its own.
  const services = byKind('Service');
  const service = services.find((s) => s.metadata.name === deployment.metadata.name);
  if (!service) return [...p, `expected a Service named ${deployment.metadata.name}`];
  const isForwardAuthService = (s) => s.metadata.labels?.['app.kubernetes.io/component'] === 'forward-auth';
  const forwardAuthServices = services.filter(isForwardAuthService);
  for (const s of services)
    if (s !== service && !isForwardAuthService(s)) p.push(`unexpected Service ${s.metadata.name}`);
  const pod = deployment.spec.template.spec;
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  const sidecars = all.filter((c) => c.name === 'vestibule');
  if (sidecars.length !== 1) return [...p, 'expected exactly one container named vestibule'];
  const [sidecar] = sidecars;
  const native = pod.initContainers?.includes(sidecar) ?? false;
  if (native && sidecar.restartPolicy !== 'Always') p.push('native sidecar without restartPolicy: Always');
  if (!native && sidecar.restartPolicy !== undefined) p.push('a regular container must not set restartPolicy');
  if (pod.securityContext?.runAsNonRoot !== true) p.push('pod securityContext.runAsNonRoot is not true');
  if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
    p.push('pod seccompProfile is not RuntimeDefault');
  p.push(...containerProblems(sidecar, pod, isDefault, values));
  for (const c of all) p.push(...inlineSecretProblems(c));

  const app = pod.containers.find((c) => c.name === 'app');
  const appPort = app && portNumber(app, 'app');
  const upstream = envValue(sidecar, 'VESTIBULE_UPSTREAM')?.value;
  if (upstream !== `http://127.0.0.1:${appPort}`)
    p.push(`VESTIBULE_UPSTREAM ${upstream} is not the app port ${appPort}`);

  const podLabels = deployment.spec.template.metadata.labels;
  // Workload identity: the webhook mutates only labelled pods, for the client id their ServiceAccount names.
  const wi = podLabels['azure.workload.identity/use'];
  if (values.workloadIdentity?.enabled === true) {
    if (wi !== 'true') p.push('workloadIdentity.enabled without the pod label azure.workload.identity/use: "true"');
    for (const sa of byKind('ServiceAccount'))
      if (sa.metadata.annotations?.['azure.workload.identity/client-id'] !== values.workloadIdentity.clientId)
        p.push(`ServiceAccount ${sa.metadata.name} lacks azure.workload.identity/client-id: workloadIdentity.clientId`);
  } else if (wi !== undefined) p.push('the pod label azure.workload.identity/use without workloadIdentity.enabled');
  const selects = (selector) => Object.entries(selector ?? {}).every(([k, v]) => podLabels[k] === v);
  if (!selects(service.spec.selector)) p.push('Service selector does not match the pod labels');
  const svcPort = (name) => service.spec.ports.find((sp) => sp.name === name);
  if (portNumber(sidecar, svcPort('http')?.targetPort) !== PROXY_PORT)
    p.push(`Service port http must target ${PROXY_PORT}`);
  if (portNumber(sidecar, svcPort('admin')?.targetPort) !== ADMIN_PORT)
    p.push(`Service port admin must target ${ADMIN_PORT}`);

  // Security: a browser must never reach the forward-auth listener (it answers the session's token), nor the
  // token API; neither belongs in a Service an Ingress routes to.
  const tokenPort = boundPort(envValue(sidecar, 'VESTIBULE_TOKEN_BIND_ADDRESS')?.value);
  const forwardAuthPort = portNumber(sidecar, 'forward-auth');
  const hidden = new Map(NOT_ROUTED.map((n) => [portNumber(sidecar, n), n]).filter(([n]) => n !== undefined));
  if (tokenPort !== undefined) hidden.set(tokenPort, 'token API');
  const routed = new Set(
    byKind('Ingress').flatMap((ing) => ing.spec.rules.flatMap((r) => r.http.paths.map((x) => x.backend.service.name))),
  );
  for (const s of services.filter((x) => routed.has(x.metadata.name)))
    for (const sp of s.spec.ports) {
      const what = hidden.get(portNumber(sidecar, sp.targetPort));
      if (what) p.push(`Service ${s.metadata.name}, which an Ingress routes to, exposes the ${what} port`);
    }
  for (const sp of service.spec.ports)
    if (![PROXY_PORT, ADMIN_PORT].includes(portNumber(sidecar, sp.targetPort)))
      p.push(`Service ${service.metadata.name} port ${sp.name} targets neither the proxy nor the admin port`);
  if (forwardAuthPort !== undefined && forwardAuthServices.length === 0)
    p.push('the forward-auth listener has no Service for the ingress controller to call');
  for (const s of forwardAuthServices) {
    if (
      forwardAuthPort === undefined ||
      s.spec.ports.some((sp) => portNumber(sidecar, sp.targetPort) !== forwardAuthPort)
    )
      p.push(`Service ${s.metadata.name} must expose the forward-auth port and nothing else`);
    if (s.spec.type !== 'ClusterIP') p.push(`Service ${s.metadata.name} must be ClusterIP`);
  }

  for (const ing of byKind('Ingress'))
    for (const rule of ing.spec.rules)
      for (const path of rule.http.paths) {
        const backend = path.backend.service;
        const port = backend.port.name ?? backend.port.number;
        if (backend.name !== service.metadata.name || (port !== 'http' && port !== svcPort('http')?.port))
          p.push(`Ingress ${rule.host}${path.path} does not route to the Service's http port`);
      }
  for (const sm of byKind('ServiceMonitor')) {
    if (!Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels?.[k] === v))
      p.push('ServiceMonitor selector does not match the Service labels');
    if (!sm.spec.endpoints.some((ep) => ep.port === 'admin' && ep.path === '/metrics'))
      p.push('ServiceMonitor does not scrape admin /metrics');
  }
  p.push(...dashboardProblems(byKind('ConfigMap'), values));
  for (const np of byKind('NetworkPolicy')) {
    const allowed = (np.spec.ingress ?? []).map((rule) => rule.ports?.map((x) => x.port) ?? ['*']);
    if (allowed.some((ports) => ports.includes('*'))) p.push('NetworkPolicy has an ingress rule without ports');
    if (allowed.some((ports) => ports.includes(appPort) || ports.includes('app')))
      p.push('NetworkPolicy lets traffic reach the app port directly');
    for (const port of [PROXY_PORT, ADMIN_PORT])
      if (!allowed.some((ports) => ports.includes(port))) p.push(`NetworkPolicy does not admit port ${port}`);
    if (tokenPort !== undefined && allowed.some((ports) => ports.includes(tokenPort)))
      p.push(`NetworkPolicy admits the token API's port ${tokenPort}`);
    if (forwardAuthPort !== undefined) {
      // The forward-auth port: only from the ingress controller (the values' selectors), never from anyone else.
      const selectors = values.networkPolicy ?? {};
      const isController = (peer) =>
        peer.ipBlock === undefined &&
        isDeepStrictEqual(peer.namespaceSelector, selectors.ingressControllerNamespaceSelector) &&
        (Object.keys(selectors.ingressControllerPodSelector ?? {}).length === 0
          ? peer.podSelector === undefined
          : isDeepStrictEqual(peer.podSelector, selectors.ingressControllerPodSelector));
      const admitting = (np.spec.ingress ?? []).filter((rule) =>
        (rule.ports ?? []).some((x) => x.port === forwardAuthPort || x.port === 'forward-auth'),
      );
      if (admitting.length === 0) p.push(`NetworkPolicy does not admit the forward-auth port ${forwardAuthPort}`);
      for (const rule of admitting)
        if (!rule.from?.length || !rule.from.every(isController))
          p.push(
            `NetworkPolicy admits the forward-auth port ${forwardAuthPort} from peers other than the ingress controller`,
          );
    }
    const egressPorts = (np.spec.egress ?? []).flatMap((rule) => rule.ports?.map((x) => x.port) ?? []);
    for (const port of [53, 443]) if (!egressPorts.includes(port)) p.push(`NetworkPolicy egress lacks port ${port}`);
    for (const [where, port] of redisEndpoints(sidecar))
      if (!egressAllows(np, port))
        p.push(
          `NetworkPolicy egress does not allow TCP port ${port} of ${where} (add it to networkPolicy.egress.redis.ports)`,
        );
  }
  return p;
}

// ---------- README ----------

/** Every value is documented: its key, or a map above it documented as a whole, heads a row of a README table. */
function undocumentedValues() {
  const readme = readFileSync(join(chart, 'README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]));
  const missing = [];
  const walk = (value, path) => {
    if (documented.has(path)) return;
    if (isObject(value) && Object.keys(value).length > 0)
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    else missing.push(`${path} is not in README.md`);
  };
  for (const [k, v] of Object.entries(readYaml(join(chart, 'values.yaml')))) walk(v, k);
  return missing;
}

// ---------- driver ----------

async function checkCase(name, valueFiles, isDefault) {
  const failures = [];
  const report = (step, problems, detail) => {
    if (problems.length === 0) console.log(`ok   ${step.padEnd(20)} ${name}${detail ? ` (${detail})` : ''}`);
    else failures.push(`FAIL ${step} [${name}]:\n  - ${problems.join('\n  - ')}`);
  };
  const fileArgs = valueFiles.flatMap((f) => ['--values', f]);

  report('values.schema.json', checkSchema(valueFiles));
  const lint = runHelm(['lint', '--strict', chart, ...fileArgs]);
  report('helm lint --strict', lint.ok ? [] : [lint.output]);
  const rendered = runHelm([
    'template',
    'demo',
    chart,
    '--namespace',
    'demo',
    '--kube-version',
    kubeVersion,
    ...fileArgs,
  ]);
  if (!rendered.ok) {
    report('helm template', [rendered.output]);
    return failures;
  }
  const parsed = parseAllDocuments(rendered.stdout);
  const yamlErrors = parsed.flatMap((d) => d.errors.map((e) => e.message));
  const docs = parsed.map((d) => d.toJS()).filter((d) => d !== null);
  report('helm template', yamlErrors, `${docs.length} documents`);

  const schemaProblems = [];
  for (const doc of docs)
    for (const msg of await kubernetesProblems(doc)) schemaProblems.push(`${doc.kind} ${doc.metadata?.name}: ${msg}`);
  report('kubernetes schemas', schemaProblems, docs.map((d) => d.kind).join(', '));
  report(
    'invariants',
    invariantProblems(docs, isDefault, mergedValues(valueFiles)),
    isDefault ? 'incl. default resources' : '',
  );
  return failures;
}

async function main() {
  const extra = parseArgs(process.argv.slice(2));
  const ciDir = join(chart, 'ci');
  const ciFiles = readdirSync(ciDir)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => join(ciDir, f));
  const devValues = join(ciDir, 'dev-values.yaml');
  if (!ciFiles.includes(devValues)) throw new Error(`${relative(root, devValues)} is missing`);
  const devName = relative(chart, devValues);
  const cases = [
    // dev-values.yaml changes nothing but developmentMode: the default resources are checked there.
    ...ciFiles.map((f) => [relative(chart, f), [f], f === devValues]),
    ...extra.map((f) => [
      `${devName} + ${relative(root, f).startsWith('..') ? f : relative(root, f)}`,
      [devValues, f],
      false,
    ]),
  ];
  const failures = [];
  const undocumented = undocumentedValues();
  if (undocumented.length === 0) console.log(`ok   ${'README values'.padEnd(20)} every key of values.yaml is listed`);
  else failures.push(`FAIL README values:\n  - ${undocumented.join('\n  - ')}`);
  const refused = runHelm(['template', 'demo', chart, '--namespace', 'demo', '--kube-version', kubeVersion]);
  if (!refused.ok && NO_STORE.test(refused.output))
    console.log(`ok   ${'refuses'.padEnd(20)} defaults (no session store, no developmentMode)`);
  else
    failures.push(
      `FAIL refuses [defaults]:\n  - rendering without redis.* or developmentMode must fail with "no session store"${
        refused.ok ? ', but it rendered' : `, but failed with: ${refused.output}`
      }`,
    );
  for (const [name, files, isDefault] of cases) failures.push(...(await checkCase(name, files, isDefault)));
  if (failures.length > 0) {
    console.error(failures.join('\n'));
    console.error(`check-chart: ${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log(`check-chart: all checks passed for ${cases.length} value set(s)`);
}

main().catch((e) => {
  console.error(`check-chart: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
