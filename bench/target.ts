/**
 * What every benchmark target looks like to the runner, and the shared pieces a target is started with.
 */
import type { JWK } from 'jose';
import type { MockEntraProcess } from './mock.js';
import type { BenchPorts } from './ports.js';
import type { Service } from './processes.js';
import type { BenchRedis } from './redis.js';

/** The rows of the main table, in order: (a) upstream … (f) mod_auth_openidc, (g) vestibule's cold path. */
export const TARGET_IDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** A started target: where to send load and which process tree to watch. */
export interface Target {
  readonly id: TargetId;
  readonly label: string;
  readonly url: string;
  /** Sent with every request (the session cookie of the authenticated targets). */
  readonly headers: Readonly<Record<string, string>>;
  /** Cookie header values sent in turn, one per request (load spread over many sessions; wrk only). */
  readonly rotatingCookies?: readonly string[];
  /** Root of the process tree whose RSS and CPU are reported; undefined for none. */
  readonly pid: number | undefined;
  /** Extra facts for the report (e.g. how many sessions are in Redis). */
  readonly note?: string;
}

/** A target that could not run here, and exactly why. */
export interface SkippedTarget {
  readonly id: TargetId;
  readonly label: string;
  readonly reason: string;
}

export type TargetStart = Target | SkippedTarget;

export function isSkipped(t: TargetStart): t is SkippedTarget {
  return 'reason' in t;
}

/**
 * The identities registered in the mock: vestibule's app and mod_auth_openidc's, each with its own RSA key, both
 * authenticating to the token endpoint with `private_key_jwt` (RS256 client assertions, as NAIS registers apps).
 */
export interface BenchIdentity {
  readonly clientId: string;
  readonly privateJwk: JWK;
  readonly encryptionKey: Buffer;
  readonly apacheClientId: string;
  /** mod_auth_openidc's signing key (private JWK with its `kid`); the mock holds the public half. */
  readonly apachePrivateJwk: JWK;
  /** The `cluster:namespace:app` of the API the token API benchmark asks tokens for. */
  readonly apiTarget: string;
}

/** How vestibule is started: the compiled build (as the image runs it) or the sources under tsx. */
export interface VestibuleCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Set on top of the bench's own environment: the image's ENV (bench/build.ts), before vestibule's settings. */
  readonly env?: Readonly<Record<string, string>>;
  readonly description: string;
}

/** Everything a target needs to start; `track` registers a process for the final clean-up. */
export interface BenchContext {
  readonly root: string;
  readonly tmp: string;
  readonly smoke: boolean;
  readonly ports: BenchPorts;
  readonly upstreamUrl: string;
  readonly upstreamPid: number;
  readonly redis: BenchRedis;
  readonly mock: MockEntraProcess;
  readonly identity: BenchIdentity;
  readonly vestibule: VestibuleCommand;
  /** node arguments that run the bare Fastify proxy of target (b). */
  readonly fastifyProxyArgs: readonly string[];
  track(service: Service): Service;
}
