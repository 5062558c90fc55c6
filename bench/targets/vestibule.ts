/**
 * Target (d): vestibule with one authenticated session in Redis, logged in through the real flow against the mock
 * Entra ID. Also starts the other vestibule instances of the run ((e), the refresh storm, the profile), which
 * differ only in Redis database, listeners and a few settings.
 */
import { TestClient } from '../../test/support/http-client.js';
import { login } from '../../test/support/mock-login.js';
import { ingressOf, type VestibulePorts } from '../ports.js';
import { startService, waitForHttp, type Service } from '../processes.js';
import type { BenchContext, Target } from '../target.js';

export interface VestibuleStart {
  readonly name: string;
  readonly ports: VestibulePorts;
  /** Redis database number. */
  readonly db: number;
  /** Extra or overriding VESTIBULE_* settings. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

/** A running vestibule: its process and addresses. */
export interface VestibuleInstance {
  readonly service: Service;
  readonly ingress: string;
  /** Base URL of the token API listener. */
  readonly tokenApi: string;
}

/** The configuration every instance shares: production defaults, info logging to its log file. */
export function vestibuleEnv(ctx: BenchContext, o: VestibuleStart): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // The caller's own Entra or vestibule settings must not leak into the benchmark.
  for (const [k, v] of Object.entries(process.env)) if (!/^(AZURE_|VESTIBULE_)/.test(k)) env[k] = v;
  return {
    ...env,
    ...ctx.vestibule.env,
    NODE_ENV: 'production',
    AZURE_APP_CLIENT_ID: ctx.identity.clientId,
    AZURE_APP_WELL_KNOWN_URL: ctx.mock.wellKnownUrl,
    AZURE_APP_JWK: JSON.stringify(ctx.identity.privateJwk),
    VESTIBULE_INGRESS: ingressOf(o.ports),
    VESTIBULE_UPSTREAM: ctx.upstreamUrl,
    VESTIBULE_BIND_ADDRESS: `127.0.0.1:${o.ports.public}`,
    VESTIBULE_ADMIN_BIND_ADDRESS: `127.0.0.1:${o.ports.admin}`,
    VESTIBULE_TOKEN_BIND_ADDRESS: `127.0.0.1:${o.ports.token}`,
    VESTIBULE_REDIS_URL: ctx.redis.url(o.db),
    VESTIBULE_ENCRYPTION_KEY: ctx.identity.encryptionKey.toString('base64'),
    VESTIBULE_LOG_LEVEL: 'info',
    ...o.env,
  };
}

export async function startVestibule(ctx: BenchContext, o: VestibuleStart): Promise<VestibuleInstance> {
  const service = ctx.track(
    startService({
      name: o.name,
      command: ctx.vestibule.command,
      args: [...(o.nodeArgs ?? []), ...ctx.vestibule.args],
      cwd: ctx.root,
      env: vestibuleEnv(ctx, o),
      logDir: ctx.tmp,
    }),
  );
  await waitForHttp(service, `http://127.0.0.1:${o.ports.admin}/readyz`, 60_000, 200, /^vestibule: failed to start/m);
  return { service, ingress: ingressOf(o.ports), tokenApi: `http://127.0.0.1:${o.ports.token}` };
}

/** Logs in once through vestibule and the mock's login form; returns the Cookie header of the session. */
export async function loginVestibule(ingress: string, username = 'kari.nordmann@nav.example'): Promise<string> {
  const client = new TestClient();
  const { callback } = await login({ ingress }, client, { username });
  if (callback.status !== 302) throw new Error(`vestibule login failed: ${callback.status} ${callback.body}`);
  const cookie = client.cookieHeader(new URL(`${ingress}/`));
  if (cookie === undefined) throw new Error('vestibule login set no session cookie');
  const check = await client.get(`${ingress}/oauth2/session`);
  if (check.status !== 200) throw new Error(`vestibule session check: ${check.status} ${check.body}`);
  return cookie;
}

export async function vestibuleTarget(ctx: BenchContext): Promise<Target> {
  const v = await startVestibule(ctx, { name: 'vestibule-d', ports: ctx.ports.vestibule, db: 0 });
  const cookie = await loginVestibule(v.ingress);
  return {
    id: 'd',
    label: '(d) vestibule, 1 session',
    url: `${v.ingress}/`,
    headers: { cookie },
    pid: v.service.pid,
  };
}
