import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configurationMarkdown, compatibilityTable } from './docs.js';
import { ConfigError, loadConfig } from './load.js';

const TENANT = '77678b69-1daf-47b6-9072-771d270ac800';
const CLIENT = 'e89006c5-7193-4ca3-8e26-d0990d9d981f';
const FILE = '/var/run/secrets/azure/tokens/azure-identity-token';
const JWK = JSON.stringify({ kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'x', e: 'AQAB', d: 'secret-d-value' });

/** What the Azure Workload Identity webhook injects into a labelled pod, plus vestibule's own two. */
const aks: Record<string, string> = {
  AZURE_CLIENT_ID: CLIENT,
  AZURE_TENANT_ID: TENANT,
  AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
  AZURE_FEDERATED_TOKEN_FILE: FILE,
  VESTIBULE_INGRESS: 'https://app.example.com',
  VESTIBULE_DEVELOPMENT_MODE: 'true',
};

function problemText(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('workload identity settings', () => {
  it("configure vestibule from the webhook's variables alone: client id, tenant, discovery URL, token file", () => {
    const c = loadConfig(aks);
    assert.equal(c.clientId, CLIENT);
    assert.equal(c.tenantId, TENANT);
    assert.equal(c.wellKnownUrl, `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`);
    assert.deepEqual(c.clientAuth, { method: 'federated_token_file', tokenFile: FILE });
    assert.deepEqual(c.scopes, ['openid', 'offline_access', `api://${CLIENT}/.default`]);
    assert.equal(c.readFrom.AZURE_APP_CLIENT_ID, 'AZURE_CLIENT_ID');
  });

  it('the authority host defaults to the public cloud, keeps another cloud, and needs the tenant', () => {
    const { AZURE_AUTHORITY_HOST: _h, ...noHost } = aks;
    assert.equal(
      loadConfig(noHost).wellKnownUrl,
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    const china = loadConfig({ ...aks, AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn' });
    assert.equal(china.wellKnownUrl, `https://login.chinacloudapi.cn/${TENANT}/v2.0/.well-known/openid-configuration`);
    const { AZURE_TENANT_ID: _t, ...noTenant } = aks;
    assert.match(problemText(noTenant), /AZURE_TENANT_ID must be set when AZURE_AUTHORITY_HOST is/);
    assert.match(problemText({ ...aks, AZURE_AUTHORITY_HOST: 'http://login.example.com/' }), /must use https:\/\//);
  });

  it('an authority host or tenant that would not name a tenant endpoint stops start-up, naming the variable', () => {
    for (const host of [
      'https://login.microsoftonline.com/?x=1',
      'https://login.microsoftonline.com/#frag',
      'https://user:pw@login.microsoftonline.com/',
    ]) {
      assert.match(
        problemText({ ...aks, AZURE_AUTHORITY_HOST: host }),
        /AZURE_AUTHORITY_HOST must be an https:\/\/ host such as https:\/\/login\.microsoftonline\.com\//,
        host,
      );
    }
    // "." and ".." would be dropped from the path: the discovery URL would name no tenant at all.
    for (const tenant of ['.', '..', 'a..b', '-.'])
      assert.match(problemText({ ...aks, AZURE_TENANT_ID: tenant }), /AZURE_TENANT_ID must be a tenant id/, tenant);
    assert.equal(
      loadConfig({ ...aks, AZURE_TENANT_ID: 'contoso.onmicrosoft.com' }).wellKnownUrl,
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration',
    );
  });

  it('warns when the client id the token is sent for is not the one the ServiceAccount names', () => {
    const c = loadConfig({ ...aks, AZURE_APP_CLIENT_ID: 'another-client' });
    assert.equal(c.clientId, 'another-client');
    const expected =
      'AZURE_CLIENT_ID (workload identity) is not AZURE_APP_CLIENT_ID: the projected token is sent as the credential of another-client';
    assert.ok(
      c.warnings.some((w) => w.startsWith(expected)),
      c.warnings.join('\n'),
    );
    assert.deepEqual(loadConfig({ ...aks, AZURE_APP_CLIENT_ID: CLIENT }).warnings, []);
    // Without the token file AZURE_CLIENT_ID is the app's affair (its own identity), not vestibule's.
    const { AZURE_FEDERATED_TOKEN_FILE: _f, ...noFile } = aks;
    const wellKnown = `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`;
    const own = { ...noFile, AZURE_APP_WELL_KNOWN_URL: wellKnown, AZURE_APP_CLIENT_SECRET: 's' };
    assert.deepEqual(loadConfig({ ...own, AZURE_APP_CLIENT_ID: 'x' }).warnings, []);
    // …nor a second opinion on vestibule's client id: a Wonderwall spelling that differs is no refusal to start.
    const { AZURE_APP_CLIENT_ID: _c, ...wonderwall } = {
      ...own,
      AZURE_APP_CLIENT_ID: '',
      WONDERWALL_OPENID_CLIENT_ID: 'x',
    };
    const fromWonderwall = loadConfig(wonderwall);
    assert.equal(fromWonderwall.clientId, 'x');
    assert.deepEqual(fromWonderwall.warnings, []);
  });

  it("vestibule's own variables win over the webhook's", () => {
    const url = `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`;
    const c = loadConfig({
      ...aks,
      AZURE_APP_CLIENT_ID: 'another-client',
      AZURE_APP_WELL_KNOWN_URL: url.replace(TENANT, 'other-tenant'),
    });
    assert.equal(c.clientId, 'another-client');
    assert.equal(c.wellKnownUrl, url.replace(TENANT, 'other-tenant'));
  });

  it('a tenant that disagrees with AZURE_OPENID_CONFIG_ISSUER stops start-up naming both', () => {
    const text = problemText({ ...aks, AZURE_OPENID_CONFIG_ISSUER: 'https://login.microsoftonline.com/other/v2.0' });
    assert.match(text, /AZURE_OPENID_CONFIG_ISSUER and AZURE_TENANT_ID \+ AZURE_AUTHORITY_HOST .*disagree/);
    // The same tenant under both is no conflict.
    loadConfig({ ...aks, AZURE_OPENID_CONFIG_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0` });
  });

  it('refuses the token file beside a JWK or a secret, naming them and a valid example, never their values', () => {
    const withJwk = problemText({ ...aks, AZURE_APP_JWK: JWK });
    assert.match(
      withJwk,
      /AZURE_FEDERATED_TOKEN_FILE cannot be combined with AZURE_APP_JWK \(choose one client authentication.*azure\.workload\.identity\/skip-containers\)\. Example: AZURE_FEDERATED_TOKEN_FILE=\/var\/run\/secrets\/azure\/tokens\/azure-identity-token/,
    );
    assert.doesNotMatch(withJwk, /secret-d-value/);
    const withSecret = problemText({ ...aks, WONDERWALL_OPENID_CLIENT_SECRET: 'hunter2-secret' });
    assert.match(withSecret, /cannot be combined with WONDERWALL_OPENID_CLIENT_SECRET/);
    assert.doesNotMatch(withSecret, /hunter2-secret/);
    const both = problemText({ ...aks, AZURE_APP_JWK: JWK, AZURE_APP_CLIENT_SECRET: 's' });
    assert.match(both, /cannot be combined with AZURE_APP_JWK or AZURE_APP_CLIENT_SECRET/);
  });

  it('a relative token file path stops start-up, naming the variable with an absolute example', () => {
    for (const relative of ['azure-identity-token', 'tokens/azure-identity-token', './token', '../secrets/token']) {
      const text = problemText({ ...aks, AZURE_FEDERATED_TOKEN_FILE: relative });
      assert.match(
        text,
        /AZURE_FEDERATED_TOKEN_FILE must be an absolute path[^\n]*\. Example: AZURE_FEDERATED_TOKEN_FILE=\/var\/run\/secrets\/azure\/tokens\/azure-identity-token/,
        relative,
      );
    }
    // Positive control: an absolute path passes, even one that does not exist yet (start-up reads it later).
    assert.deepEqual(loadConfig({ ...aks, AZURE_FEDERATED_TOKEN_FILE: '/tmp/not-there/token' }).clientAuth, {
      method: 'federated_token_file',
      tokenFile: '/tmp/not-there/token',
    });
  });

  it('without any credential the problem names all three', () => {
    const { AZURE_FEDERATED_TOKEN_FILE: _f, ...none } = aks;
    assert.match(
      problemText(none),
      /AZURE_APP_JWK or AZURE_APP_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE is required for client authentication/,
    );
  });

  it('the docs list the webhook variables as aliases; the Wonderwall/Texas migration table does not', () => {
    const md = configurationMarkdown();
    assert.match(md, /`AZURE_FEDERATED_TOKEN_FILE`/);
    assert.match(md, /AZURE_CLIENT_ID \(Workload identity\)/);
    assert.match(md, /AZURE_TENANT_ID \+ AZURE_AUTHORITY_HOST \(Workload identity\)/);
    const table = compatibilityTable();
    assert.doesNotMatch(table, /`AZURE_CLIENT_ID`|`AZURE_TENANT_ID`|Workload identity/);
  });
});
