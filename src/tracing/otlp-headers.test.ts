import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { Metadata } from '@grpc/grpc-js';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { asTheExporterReadsThem, otlpHeadersProblem, percentDecoded } from './otlp-headers.js';
import { scrubbedExportError } from './otel.js';

const grpcMetadataProblem = (h: Record<string, string>): string | undefined => otlpHeadersProblem(h, 'grpc');

/** Whether `send` goes through (its error's message is not looked at: it quotes the value). */
function accepted(send: () => void): boolean {
  try {
    send();
    return true;
  } catch {
    return false;
  }
}

/** Whether grpc-js itself takes the entry. */
const grpcTakes = (key: string, value: string): boolean => accepted(() => new Metadata().set(key, value));

describe('grpcMetadataProblem()', () => {
  const cases: [key: string, value: string][] = [
    ['x-api-key', 'top-s3cret'],
    ['X-Api-Key', 'top-s3cret'],
    ['tenant.id_1', ''],
    ['x-api-key', 'top%20s3cret%3D'],
    ['x-api-key', '100%'], // a malformed escape is sent as it is
    ['x-api-key', 'top-s3cret%0A'],
    ['x-api-key', 'top-s3cret%7F'],
    ['x-api-key', 'top-s3cret%C3%A9'],
    ['x-api-key', 'top-s3cret\u00e9'],
    ['Bearer top-s3cret', 'x'],
    ['x/y', 'x'],
    ['x-token-bin', 'top-s3cret'],
  ];

  it('accepts exactly what grpc-js sends (one rule for the config and the exporter)', () => {
    for (const [key, value] of cases) {
      const decoded = percentDecoded({ [key]: value })[key] ?? '';
      assert.equal(grpcMetadataProblem({ [key]: value }) === undefined, grpcTakes(key, decoded), `${key}=${value}`);
    }
  });

  it('names the first bad entry by position, never its key or value', () => {
    const problem = grpcMetadataProblem({ ok: '1', 'Bearer top-s3cret': 'x', 'x-api-key': 'top-s3cret%0A' });
    assert.ok(problem !== undefined);
    assert.match(problem, /^entry 2 of 3 cannot be sent as gRPC metadata/);
    assert.doesNotMatch(problem, /top-s3cret|Bearer/);
    assert.equal(grpcMetadataProblem({}), undefined);
    // grpc-js takes a ":" in a key, an HTTP/2 pseudo-header no collector reads: refused.
    assert.ok(grpcTakes(':authority', 'x'));
    assert.notEqual(grpcMetadataProblem({ ':authority': 'x' }), undefined);
  });
});

/** Whether Node's HTTP client takes the header (what the http/protobuf exporter sends through). */
const httpTakes = (key: string, value: string): boolean =>
  accepted(() => {
    validateHeaderName(key);
    validateHeaderValue(key, value);
  });

describe("otlpHeadersProblem(…, 'http')", () => {
  const cases: [key: string, value: string][] = [
    ['x-api-key', 'top-s3cret'],
    ['X-Api-Key', 'top%20s3cret%3D'],
    ['x-token-bin', 'top-s3cret'],
    ['x-api-key', 'top-s3cret%C3%A9'], // Latin-1 once decoded: Node sends it
    ['x-api-key', 'top-s3cret%E2%82%AC'], // beyond Latin-1
    ['x-api-key', 'top-s3cret%0A'],
    ['x-api-key', 'top-s3cret%0D'],
    ['x-api-key', 'top-s3cret%00'],
    ['x-api-key', 'tab%09ok'],
    ['Authorization: Basic dXNlcjpwYXNz', '='],
    ['Bearer top-s3cret', 'x'],
    ['x(y)', 'x'],
    ['', 'x'],
  ];

  it('accepts exactly what node:http sends', () => {
    for (const [key, value] of cases) {
      const decoded = percentDecoded({ [key]: value })[key] ?? '';
      assert.equal(
        otlpHeadersProblem({ [key]: value }, 'http') === undefined,
        httpTakes(key, decoded),
        `${key}=${value}`,
      );
    }
  });

  it('names the bad entry by position, never its key or value', () => {
    const problem = otlpHeadersProblem({ ok: '1', 'Authorization: Basic dXNlcjpwYXNz': '=' }, 'http');
    assert.ok(problem !== undefined);
    assert.match(problem, /^entry 2 of 2 cannot be sent as an HTTP header/);
    assert.doesNotMatch(problem, /dXNlcjpwYXNz|Authorization/);
  });
});

describe('scrubbedExportError()', () => {
  it('drops what the errors of node:http and grpc-js quote', () => {
    const caught = (f: () => void): Error => {
      try {
        f();
      } catch (err) {
        return err as Error;
      }
      throw new Error('did not throw');
    };
    const errors = [
      caught(() => validateHeaderName('Bearer top-s3cret')),
      caught(() => validateHeaderValue('x-api-key', 'top-s3cret\n')),
      caught(() => new Metadata().set('x-api-key', 'top-s3cret\n')),
    ];
    // Positive control: each message quotes the secret before it is scrubbed.
    for (const err of errors) assert.match(err.message, /top-s3cret|x-api-key/);
    for (const err of errors) assert.doesNotMatch(scrubbedExportError(err), /top-s3cret|x-api-key/, err.message);
  });
});

describe('asTheExporterReadsThem()', () => {
  it('reads the variable as the exporter does (@opentelemetry/core parseKeyPairsIntoRecord)', () => {
    for (const raw of [
      'x-api-key=top-s3cret',
      ' a = 1 , b=2 ',
      'k%5Dtop-s3cret=1,Bearer%20top-s3cret=1',
      'x-api-key=top%0A;%,y=2',
      'x=1;meta=data,y=%E0%A4%A,z=,=v,w',
      'dup=1,dup=2',
    ]) {
      assert.deepEqual(Object.fromEntries(asTheExporterReadsThem(raw)), parseKeyPairsIntoRecord(raw), raw);
    }
  });

  it('a key the exporter decodes into one HTTP cannot send is a problem, though vestibule reads it as a token', () => {
    for (const raw of ['x-ok=1,k%5Dtop-s3cret=1', 'x-ok=1,Bearer%20top-s3cret=1']) {
      const parsed = Object.fromEntries(raw.split(',').map((e) => e.split('=') as [string, string]));
      assert.equal(otlpHeadersProblem(parsed, 'http'), undefined, `${raw}: sendable as vestibule reads it`);
      const problem = otlpHeadersProblem(parsed, 'http', raw);
      assert.ok(problem !== undefined, raw);
      assert.doesNotMatch(problem, /top-s3cret/);
    }
  });
});

describe('scrubbedExportError(): hostile messages', () => {
  it('keeps the message only up to its first quote or bracket (an odd quote cannot be paired safely)', () => {
    const odd = new Error('Metadata string value "a"top-s3cret\n" contains illegal characters');
    assert.doesNotMatch(scrubbedExportError(odd), /top-s3cret/);
    const bracket = new Error('Header name must be a valid HTTP token ["k]top-s3cret"]');
    assert.equal(scrubbedExportError(bracket), 'Error: Header name must be a valid HTTP token …');
    // A collector's plain status text is kept.
    assert.equal(scrubbedExportError(new Error('Bad Request')), 'Error: Bad Request');
  });

  it("a collector's status text of 64 K brackets is cut, not scanned (the scrub stays linear)", () => {
    const out = scrubbedExportError(new Error('['.repeat(65_536)));
    assert.ok(out.length <= 210, `${out.length} characters`);
    assert.equal(out, 'Error: …');
  });
});
