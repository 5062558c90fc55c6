/**
 * Target (f): Apache httpd with mod_auth_openidc (Debian's libapache2-mod-auth-openidc), the C peer platform teams
 * would otherwise run. Same mock Entra ID, sessions in the same Redis, the access token forwarded as
 * `Authorization: Bearer` like vestibule does; logged in once through its own redirect flow. Like vestibule it
 * authenticates to the token endpoint with `private_key_jwt` (an RS256 client assertion per token request, signed
 * with its own RSA key), so a login costs both the same signature. Apache runs in the foreground with a generated
 * config under a temp ServerRoot.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { NAVIGATION, TestClient, type Response } from '../../test/support/http-client.js';
import { showSignInPage, submitSignIn } from '../../test/support/mock-login.js';
import { startService, waitForPort, which } from '../processes.js';
import type { BenchContext, TargetStart } from '../target.js';

const LABEL = '(f) Apache mod_auth_openidc';
const MODULES = '/usr/lib/apache2/modules';
const NEEDED = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authn_core_module', 'mod_authn_core.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['authz_user_module', 'mod_authz_user.so'],
  ['headers_module', 'mod_headers.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['auth_openidc_module', 'mod_auth_openidc.so'],
] as const;

export interface ApacheConfigInput {
  readonly dir: string;
  readonly port: number;
  readonly upstreamPort: number;
  readonly redisPort: number;
  readonly wellKnownUrl: string;
  readonly clientId: string;
  /** The `kid` of the client's key as registered in the mock (sent in the assertion's header). */
  readonly keyId: string;
  /** PEM file of the client's RSA private key, for `private_key_jwt`. */
  readonly privateKeyFile: string;
  /** PEM file of its public key: mod_auth_openidc 2.4.12 crashes signing the assertion without OIDCPublicKeyFiles. */
  readonly publicKeyFile: string;
  readonly passphrase: string;
}

/**
 * httpd.conf: event MPM sized for 256 connections, keep-alive unlimited (as nginx and Node), OIDC on `/`.
 * OIDCPrivateKeyFiles comes before OIDCProviderTokenEndpointAuth: mod_auth_openidc 2.4.12 accepts `private_key_jwt`
 * only once a private key is configured ("invalid value 'private_key_jwt'" otherwise).
 */
export function apacheConfig(c: ApacheConfigInput): string {
  const modules = NEEDED.map(([name, file]) => `LoadModule ${name} ${MODULES}/${file}`).join('\n');
  return `ServerRoot "${c.dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${c.port}
PidFile ${c.dir}/httpd.pid
DefaultRuntimeDir ${c.dir}
Mutex sysvsem default
ErrorLog ${c.dir}/error.log
LogLevel warn
User www-data
Group www-data
${modules}
StartServers 2
ServerLimit 16
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 512
MinSpareThreads 64
MaxSpareThreads 512
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 120

OIDCProviderMetadataURL ${c.wellKnownUrl}
OIDCClientID ${c.clientId}
OIDCPrivateKeyFiles ${c.keyId}#${c.privateKeyFile}
OIDCPublicKeyFiles ${c.keyId}#${c.publicKeyFile}
OIDCProviderTokenEndpointAuth private_key_jwt
OIDCRedirectURI http://127.0.0.1:${c.port}/oauth2/callback
OIDCCryptoPassphrase ${c.passphrase}
OIDCScope "openid offline_access api://${c.clientId}/.default"
OIDCPKCEMethod S256
OIDCSSLValidateServer Off
OIDCSessionType server-cache
OIDCCacheType redis
OIDCRedisCacheServer 127.0.0.1:${c.redisPort}
OIDCPassClaimsAs environment

<Location />
  AuthType openid-connect
  Require valid-user
  RequestHeader set Authorization "Bearer %{OIDC_access_token}e"
</Location>
ProxyPass /oauth2/callback !
ProxyPass / http://127.0.0.1:${c.upstreamPort}/
`;
}

/** Why mod_auth_openidc cannot run here, or undefined when it can. */
export function apacheMissing(): string | undefined {
  if (!which('apache2')) return 'apache2 is not installed (apt-get install -y apache2 libapache2-mod-auth-openidc)';
  const absent = NEEDED.filter(([, file]) => !existsSync(join(MODULES, file))).map(([, f]) => f);
  if (absent.length > 0)
    return `Apache modules missing: ${absent.join(', ')} (apt-get install -y libapache2-mod-auth-openidc)`;
  return undefined;
}

function tail(file: string, lines: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n') : '';
}

/**
 * mod_auth_openidc's own login, as a browser does it: protected URL → authorize → the mock's form → its redirect
 * URI. Resolves with the redirect URI's answer (a 302 back to the protected URL when the login worked).
 */
export async function apacheLogin(base: string, client: TestClient, username: string): Promise<Response> {
  const start = await client.get(`${base}/`, NAVIGATION);
  if (start.status !== 302 || !start.location) throw new Error(`no redirect to login: ${start.status} ${start.body}`);
  const authorize = new URL(start.location);
  await showSignInPage(client, authorize);
  return client.get(await submitSignIn(client, authorize, username), NAVIGATION);
}

/**
 * Writes the client's key pair as PEM where Apache reads it (mod_auth_openidc loads OIDCPrivateKeyFiles and
 * OIDCPublicKeyFiles while the config is parsed, by the root parent) and returns the files and the key's `kid`.
 */
export function writeClientKey(
  dir: string,
  privateJwk: JWK,
): { keyId: string; privateKeyFile: string; publicKeyFile: string } {
  if (typeof privateJwk.kid !== 'string') throw new Error("mod_auth_openidc's client key has no kid");
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const privateKeyFile = join(dir, 'client-key.pem');
  const publicKeyFile = join(dir, 'client-key.pub.pem');
  writeFileSync(privateKeyFile, key.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicKeyFile, createPublicKey(key).export({ type: 'spki', format: 'pem' }));
  return { keyId: privateJwk.kid, privateKeyFile, publicKeyFile };
}

async function loginApache(base: string): Promise<string> {
  const client = new TestClient();
  const callback = await apacheLogin(base, client, 'kari.nordmann@nav.example');
  if (callback.status !== 302) throw new Error(`redirect URI: ${callback.status} ${callback.body.slice(0, 300)}`);
  const cookie = client.cookieHeader(new URL(`${base}/`));
  if (cookie === undefined) throw new Error('no session cookie after login');
  const check = await client.request(`${base}/`, { headers: { cookie } });
  if (check.status !== 200) throw new Error(`authenticated request: ${check.status} ${check.body.slice(0, 300)}`);
  return cookie;
}

export async function modAuthOpenidc(ctx: BenchContext): Promise<TargetStart> {
  const missing = apacheMissing();
  if (missing) return { id: 'f', label: LABEL, reason: missing };
  const dir = join(ctx.tmp, 'apache');
  mkdirSync(dir);
  // Apache's workers run as www-data and must reach their ServerRoot.
  chmodSync(ctx.tmp, 0o711);
  chmodSync(dir, 0o755);
  const conf = join(dir, 'httpd.conf');
  writeFileSync(
    conf,
    apacheConfig({
      dir,
      port: ctx.ports.apache,
      upstreamPort: ctx.ports.upstream,
      redisPort: ctx.redis.port,
      wellKnownUrl: ctx.mock.wellKnownUrl,
      clientId: ctx.identity.apacheClientId,
      ...writeClientKey(dir, ctx.identity.apachePrivateJwk),
      passphrase: randomBytes(32).toString('base64url'),
    }),
  );
  const service = ctx.track(
    startService({ name: 'apache', command: 'apache2', args: ['-d', dir, '-f', conf, '-DFOREGROUND'], logDir: dir }),
  );
  await waitForPort(service, ctx.ports.apache, 15_000);
  const base = `http://127.0.0.1:${ctx.ports.apache}`;
  let cookie: string;
  try {
    cookie = await loginApache(base);
  } catch (err) {
    await service.stop();
    const log = [service.logTail(10), tail(join(dir, 'error.log'), 10)].filter(Boolean).join('\n');
    return {
      id: 'f',
      label: LABEL,
      reason: `login through mod_auth_openidc failed: ${(err as Error).message}\n${log}`,
    };
  }
  return { id: 'f', label: LABEL, url: `${base}/`, headers: { cookie }, pid: service.pid };
}
