import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateClientJwk } from '../mock-entra/keys.js';
import { apacheConfig, writeClientKey } from './targets/mod-auth-openidc.js';

describe('mod_auth_openidc target (f)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-apache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes its client key as a PEM the mock’s registered public JWK verifies, with that JWK’s kid', async () => {
    const { privateJwk, publicJwk } = await generateClientJwk();
    const { keyId, privateKeyFile, publicKeyFile } = writeClientKey(dir, privateJwk);
    assert.equal(keyId, publicJwk.kid);
    assert.match(readFileSync(privateKeyFile, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.equal(statSync(privateKeyFile).mode & 0o077, 0, 'the key file is private');
    const fromPem = createPublicKey(readFileSync(privateKeyFile)).export({ format: 'jwk' });
    assert.equal(fromPem.n, publicJwk.n);
    assert.equal(createPublicKey(readFileSync(publicKeyFile)).export({ format: 'jwk' }).n, publicJwk.n);
  });

  it('authenticates to the token endpoint with private_key_jwt and never a client secret', () => {
    const conf = apacheConfig({
      dir,
      port: 1,
      upstreamPort: 2,
      redisPort: 3,
      wellKnownUrl: 'http://127.0.0.1:4/.well-known/openid-configuration',
      clientId: 'client',
      keyId: 'kid-1',
      privateKeyFile: '/keys/client.pem',
      publicKeyFile: '/keys/client.pub.pem',
      passphrase: 'p',
    });
    const keys = conf.search(/^OIDCPrivateKeyFiles kid-1#\/keys\/client\.pem$/m);
    const method = conf.search(/^OIDCProviderTokenEndpointAuth private_key_jwt$/m);
    assert.match(conf, /^OIDCPublicKeyFiles kid-1#\/keys\/client\.pub\.pem$/m);
    assert.ok(keys >= 0 && method >= 0, conf);
    assert.ok(keys < method, 'mod_auth_openidc refuses private_key_jwt before a private key is configured');
    assert.doesNotMatch(conf, /ClientSecret|client_secret/);
  });
});
