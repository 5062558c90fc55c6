import { importJWK } from 'jose';
import * as client from 'openid-client';
import type { ClientAuthConfig } from '../config/load.js';

/** How long a client assertion is valid: short, as Texas does; one is minted per request anyway. */
const ASSERTION_LIFETIME_SEC = 30;

/**
 * The client authentication used for every token-endpoint call (login, refresh, client credentials,
 * on-behalf-of): private_key_jwt with a fresh assertion per request (`iss`=`sub`=client id, unique `jti`,
 * short `exp`, `kid` in the header, `aud` = issuer or token endpoint), else client_secret_post.
 */
export async function createClientAuth(
  auth: ClientAuthConfig,
  audience: 'issuer' | 'token_endpoint',
  tokenEndpoint: string | undefined,
): Promise<client.ClientAuth> {
  if (auth.method === 'client_secret_post') return client.ClientSecretPost(auth.secret);
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
