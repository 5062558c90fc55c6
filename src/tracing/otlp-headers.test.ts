import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { grpcMetadataProblem, percentDecoded } from './otlp-headers.js';

/** Whether grpc-js itself takes the entry (its message is not looked at: it quotes the value). */
function grpcTakes(key: string, value: string): boolean {
  try {
    new Metadata().set(key, value);
    return true;
  } catch {
    return false;
  }
}

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
