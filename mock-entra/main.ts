/**
 * Standalone mock Entra ID for the demo, docker-compose and the benchmark:
 * `tsx mock-entra/main.ts [--host H] [--port N] [--config file.json]`. Prints one JSON line
 * `{"url","issuer","wellKnownUrl"}` when listening; exits cleanly on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startMockEntra } from './server.js';
import type { MockEntraOptions } from './server.js';

const HELP = `Usage: tsx mock-entra/main.ts [--host 127.0.0.1] [--port 0] [--config options.json]

A strict mock of Microsoft Entra ID (v2.0 endpoints) for local development and tests.

  --host     interface to bind (default 127.0.0.1)
  --port     port to listen on (default 0: a free port)
  --config   JSON file with MockEntraOptions: tenantId, clients, users,
             accessTokenLifetime, idTokenLifetime (seconds)
  --help     show this text

When listening, prints one JSON line: {"url","issuer","wellKnownUrl"}.
Test controls: GET /_mock/stats, POST /_mock/{reset,fail,clear-failures,lifetimes,
rotate-key,remove-old-keys,revoke-refresh-tokens}.`;

const jwkSchema = z.looseObject({ kty: z.string() });
const configSchema = z.strictObject({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  tenantId: z.string().optional(),
  clients: z
    .array(
      z.strictObject({
        clientId: z.string().min(1),
        name: z.string().optional(),
        publicJwks: z.object({ keys: z.array(jwkSchema) }).optional(),
        clientSecret: z.string().optional(),
        redirectUris: z.array(z.string()).optional(),
        postLogoutRedirectUris: z.array(z.string()).optional(),
        preAuthorizedClientIds: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  users: z
    .array(
      z.strictObject({
        username: z.string(),
        name: z.string(),
        oid: z.string(),
        navIdent: z.string(),
        groups: z.array(z.string()),
      }),
    )
    .optional(),
  accessTokenLifetime: z.number().int().positive().optional(),
  idTokenLifetime: z.number().int().positive().optional(),
});

function loadConfig(path: string): MockEntraOptions {
  const parsed = configSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`invalid config ${path}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const options: MockEntraOptions = values.config === undefined ? {} : loadConfig(values.config);
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
    options.port = port;
  }
  const mock = await startMockEntra(options);
  process.stdout.write(`${JSON.stringify({ url: mock.url, issuer: mock.issuer, wellKnownUrl: mock.wellKnownUrl })}\n`);
  const stop = (): void => {
    void mock.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`mock-entra: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
