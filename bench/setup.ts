/**
 * The infrastructure every target shares, started once per run: the upstream app, a private Redis and the mock
 * Entra ID with the app registrations of vestibule, mod_auth_openidc and an API to ask tokens for.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { generateClientJwk } from '../mock-entra/keys.js';
import type { MockClient } from '../mock-entra/types.js';
import type { NodeTargets } from './build.js';
import { startMock } from './mock.js';
import { allocatePorts, ingressOf, type BenchPorts } from './ports.js';
import { startService, waitForHttp, type Service } from './processes.js';
import { startBenchRedis } from './redis.js';
import type { BenchContext, BenchIdentity } from './target.js';

interface Identities {
  readonly identity: BenchIdentity;
  readonly publicJwk: JWK;
  readonly apachePublicJwk: JWK;
}

async function makeIdentity(): Promise<Identities> {
  const [{ privateJwk, publicJwk }, apache] = await Promise.all([generateClientJwk(), generateClientJwk()]);
  return {
    identity: {
      clientId: randomUUID(),
      privateJwk,
      encryptionKey: randomBytes(32),
      apacheClientId: randomUUID(),
      apachePrivateJwk: apache.privateJwk,
      apiTarget: 'bench:team:api',
    },
    publicJwk,
    apachePublicJwk: apache.publicJwk,
  };
}

/**
 * The app registrations: every vestibule instance of the run shares one client with one redirect URI each;
 * mod_auth_openidc has its own. Both register only a public key (no secret), so every token request of either
 * must carry a client assertion.
 */
function mockClients(ports: BenchPorts, { identity, publicJwk, apachePublicJwk }: Identities): MockClient[] {
  const ingresses = [
    ports.vestibule,
    ports.vestibuleMany,
    ports.vestibuleCold,
    ports.vestibuleStorm,
    ports.vestibuleProfile,
  ].map(ingressOf);
  return [
    {
      clientId: identity.clientId,
      name: 'bench:team:vestibule',
      publicJwks: { keys: [publicJwk] },
      redirectUris: ingresses.map((i) => `${i}/oauth2/callback`),
      postLogoutRedirectUris: ingresses.map((i) => `${i}/oauth2/logout/callback`),
    },
    {
      clientId: identity.apacheClientId,
      name: 'bench:team:apache',
      publicJwks: { keys: [apachePublicJwk] },
      redirectUris: [`http://127.0.0.1:${ports.apache}/oauth2/callback`],
    },
    { clientId: randomUUID(), name: identity.apiTarget },
  ];
}

export interface SetupInput {
  readonly root: string;
  readonly tmp: string;
  readonly smoke: boolean;
  readonly node: NodeTargets;
  /** Receives every started process, for the clean-up. */
  readonly services: Service[];
}

export async function setUp(i: SetupInput): Promise<BenchContext> {
  const track = (s: Service): Service => {
    i.services.push(s);
    return s;
  };
  const ports = await allocatePorts();
  const identities = await makeIdentity();
  const { identity } = identities;
  const upstream = track(
    startService({
      name: 'upstream',
      command: process.execPath,
      args: ['--import', 'tsx', 'bench/upstream.ts', '--port', String(ports.upstream)],
      cwd: i.root,
      logDir: i.tmp,
    }),
  );
  const upstreamUrl = `http://127.0.0.1:${ports.upstream}`;
  const [redis, mock] = await Promise.all([
    startBenchRedis(ports.redis, i.tmp, track),
    startMock({ port: ports.mock, clients: mockClients(ports, identities), root: i.root, tmp: i.tmp, track }),
    waitForHttp(upstream, `${upstreamUrl}/`, 30_000, 200),
  ]);
  return {
    root: i.root,
    tmp: i.tmp,
    smoke: i.smoke,
    ports,
    upstreamUrl,
    upstreamPid: upstream.pid,
    redis,
    mock,
    identity,
    vestibule: i.node.vestibule,
    fastifyProxyArgs: i.node.fastifyProxyArgs,
    track,
  };
}
