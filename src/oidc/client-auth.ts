import { importJWK } from 'jose';
import * as client from 'openid-client';
import type { ClientAuthConfig } from '../config/load.js';
import { readFederatedToken } from './federated-token.js';

/** How long a client assertion is valid: short, as Texas does; one is minted per request anyway. */
const ASSERTION_LIFETIME_SEC = 30;

/** RFC 7523 §2.2: a JWT as the client's credential. */
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The client authentication used for every token-endpoint call (login, refresh, client credentials,
 * on-behalf-of): private_key_jwt with a fresh assertion per request (`iss`=`sub`=client id, unique `jti`,
 * short `exp`, `kid` in the header, `aud` = issuer or token endpoint); workload identity, where the assertion
 * is the projected service-account token read from its file on every request (Entra's federated identity
 * credential; the kubelet rotates the file); else client_secret_post.
 */
export async function createClientAuth(
  auth: ClientAuthConfig,
  audience: 'issuer' | 'token_endpoint',
  tokenEndpoint: string | undefined,
): Promise<client.ClientAuth> {
  if (auth.method === 'client_secret_post') return client.ClientSecretPost(auth.secret);
  if (auth.method === 'federated_token_file') return federatedTokenFile(auth.tokenFile);
  const key = await importJWK(auth.jwk, auth.jwk.alg);
  if (key instanceof Uint8Array) throw new TypeError('AZURE_APP_JWK must be an asymmetric private key');
  return client.PrivateKeyJwt(
    { key, kid: auth.jwk.kid },
    {
      [client.modifyAssertion]: (header, payload) => {
        header.typ = 'JWT';
        if (typeof payload.iat === 'number') payload.exp = payload.iat + ASSERTION_LIFETIME_SEC;
        if (audience === 'token_endpoint' && tokenEndpoint) payload.aud = tokenEndpoint;
      },
    },
  );
}

/**
 * Workload identity: the file's JWT, as it is, is the client assertion. A failed read throws
 * CLIENT_ASSERTION_UNAVAILABLE before anything is sent, so the grant fails and nothing else does.
 */
function federatedTokenFile(path: string): client.ClientAuth {
  // The type says void, but openid-client awaits it: its own PrivateKeyJwt is async, as this one is.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  return async (_as, c, body) => {
    const assertion = await readFederatedToken(path);
    body.set('client_id', c.client_id);
    body.set('client_assertion_type', JWT_BEARER_ASSERTION);
    body.set('client_assertion', assertion);
  };
}
