/**
 * A stand-in for a Kubernetes cluster's service-account issuer, as Entra workload identity sees it: its own key
 * pair, tokens shaped like the kubelet's projected tokens (`sub` = `system:serviceaccount:<ns>:<sa>`, `aud` =
 * `api://AzureADTokenExchange`, `kubernetes.io` claims, a `jti`), and a file that is rewritten the way the kubelet
 * rotates it (a new file renamed over the old, so a reader never sees half a token).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { TOKEN_EXCHANGE_AUDIENCE } from '../../mock-entra/federated-credentials.js';
import { generateClientJwk } from '../../mock-entra/keys.js';
import type { MockFederatedCredential, MockFederatedIssuer } from '../../mock-entra/server.js';

export const CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface MintOptions {
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly audience?: string;
  /** Epoch seconds of `iat`/`nbf` (default now). */
  readonly issuedAt?: number;
  /** Seconds (default 3600, as Azure Workload Identity projects them). */
  readonly lifetime?: number;
  readonly jti?: string;
}

/** A cluster's service-account issuer: the mock trusts it with {@link trustedBy}, tests mint its tokens. */
export interface ClusterIssuer {
  readonly issuer: string;
  /** What the mock Entra ID is given to trust this issuer (its public keys). */
  readonly trustedBy: MockFederatedIssuer;
  /** A federated identity credential for a service account of this issuer (for an app registration). */
  credential(namespace?: string, serviceAccount?: string): MockFederatedCredential;
  /** A projected service-account token, signed with this issuer's key. */
  mint(o?: MintOptions): Promise<string>;
}

export const DEFAULT_NAMESPACE = 'team';
export const DEFAULT_SERVICE_ACCOUNT = 'app';

export async function createClusterIssuer(issuer: string = CLUSTER_ISSUER): Promise<ClusterIssuer> {
  const { privateJwk, publicJwk } = await generateClientJwk();
  const key = await importJWK(privateJwk, 'RS256');
  return {
    issuer,
    trustedBy: { issuer, jwks: { keys: [publicJwk] } },
    credential: (namespace = DEFAULT_NAMESPACE, serviceAccount = DEFAULT_SERVICE_ACCOUNT) => ({
      issuer,
      subject: `system:serviceaccount:${namespace}:${serviceAccount}`,
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    }),
    mint: async (o = {}) => {
      const namespace = o.namespace ?? DEFAULT_NAMESPACE;
      const serviceAccount = o.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT;
      const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT({
        'kubernetes.io': {
          namespace,
          serviceaccount: { name: serviceAccount, uid: randomUUID() },
          pod: { name: `${serviceAccount}-7d9f8b6c5-x2x9q`, uid: randomUUID() },
        },
      })
        .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid })
        .setIssuer(issuer)
        .setSubject(`system:serviceaccount:${namespace}:${serviceAccount}`)
        .setAudience([o.audience ?? TOKEN_EXCHANGE_AUDIENCE])
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + (o.lifetime ?? 3600))
        .setJti(o.jti ?? randomUUID())
        .sign(key);
    },
  };
}

/** The projected token file in a temporary directory of its own. */
export interface TokenFile {
  readonly path: string;
  /** Replaces the content at once (write beside, rename over), as the kubelet's atomic writer does. */
  write(content: string): void;
  /** Removes the file (the directory stays). */
  remove(): void;
  close(): void;
}

export function createTokenFile(): TokenFile {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-projected-'));
  const path = join(dir, 'azure-identity-token');
  let n = 0;
  return {
    path,
    write: (content) => {
      const next = join(dir, `.token-${++n}`);
      writeFileSync(next, content, { mode: 0o600 });
      renameSync(next, path);
    },
    remove: () => {
      rmSync(path, { force: true });
    },
    close: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
