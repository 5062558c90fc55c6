import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { NO_SCHEMA_COMPILERS } from './no-schemas.js';

const require = createRequire(import.meta.url);
const loaded = (pkg: string): string[] => Object.keys(require.cache).filter((k) => k.includes(`/node_modules/${pkg}/`));

describe('NO_SCHEMA_COMPILERS: Fastify without Ajv and fast-json-stringify', () => {
  it('serves a route, and neither compiler package is loaded', async () => {
    const app = Fastify(NO_SCHEMA_COMPILERS);
    app.get('/', () => ({ ok: true }));
    const res = await app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
    await app.close();
    // Positive control: Fastify itself is in the cache, so an absence below means something.
    assert.ok(loaded('fastify').length > 0);
    assert.deepEqual(loaded('ajv'), []);
    // Fastify's error serializer needs fast-json-stringify's runtime helpers; its compiler (index.js) is the part left out.
    assert.deepEqual(
      loaded('fast-json-stringify').filter((k) => k.endsWith('/fast-json-stringify/index.js')),
      [],
    );
  });

  it('a route that declares a schema fails at ready() with a message that says why', async () => {
    const app = Fastify(NO_SCHEMA_COMPILERS);
    app.post('/', { schema: { body: { type: 'object' } } }, () => 'x');
    await assert.rejects(async () => {
      await app.ready();
    }, /declares no JSON schemas/);
    await app.close();
  });

  it('every Fastify instance in src/ is made with it', () => {
    const src = fileURLToPath(new URL('..', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    let made = 0;
    for (const f of files) {
      const text = readFileSync(join(src, f), 'utf8');
      // Any call of the factory, however it is imported or named: Fastify(…), fastify(…), Fastify.default(…).
      for (const m of text.matchAll(/\b(?:fastify|Fastify)(?:\.default)?\s*\(([^)]{0,40})/gi)) {
        made++;
        assert.match(
          m[1] ?? '',
          /^\{\s*\.\.\.NO_SCHEMA_COMPILERS,/,
          `${f}: a Fastify instance must start with ...NO_SCHEMA_COMPILERS`,
        );
      }
    }
    assert.ok(made >= 5, `found ${made} Fastify instances in src/`);
  });
});
