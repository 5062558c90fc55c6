import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startOtelTracer } from './otel.js';
import type { OtelSettings } from './tracer.js';

const settings = (headers: Record<string, string>): OtelSettings => ({
  protocol: 'grpc',
  endpoint: 'http://127.0.0.1:1',
  headers,
  sampler: 'always_on',
  samplerArg: 1,
  batchDelayMs: 1_000,
  resourceAttributes: {},
});

describe('the OTLP gRPC exporter', () => {
  it('refuses a header gRPC cannot send, naming the variable and the entry but never its value', async () => {
    const cases: Record<string, string>[] = [
      { 'x-api-key': 'top-s3cret%0A' },
      { 'x-api-key': 'top-s3cret%C3%A9' },
      { 'Bearer top-s3cret': 'x' },
    ];
    for (const headers of cases) {
      await assert.rejects(startOtelTracer(settings(headers), { warn: () => undefined }), (err: Error) => {
        assert.ok(!err.message.includes('top-s3cret'), err.message);
        assert.match(err.message, /OTEL_EXPORTER_OTLP_HEADERS/);
        assert.match(err.message, /entry 1 of 1/);
        return true;
      });
    }
  });
});
