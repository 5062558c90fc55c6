/**
 * Real OTLP trace receivers on 127.0.0.1, OTLP/HTTP (`POST /v1/traces`, application/x-protobuf) and OTLP/gRPC
 * (`TraceService/Export`): each decodes every
 * ExportTraceServiceRequest with the protobuf code generated from the OpenTelemetry protos (the static module
 * that @opentelemetry/otlp-transformer 0.57 ships, installed as the `otlp-transformer-0.57` dev dependency: the
 * current transformer only encodes), and keeps the spans, flattened, for a test to look at.
 */
import { Server, ServerCredentials, type Metadata } from '@grpc/grpc-js';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

type AnyValue = {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: number | { toNumber(): number } | null;
  doubleValue?: number | null;
};
type KeyValue = { key: string; value?: AnyValue | null };
interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array | null;
  name: string;
  kind: number;
  attributes: KeyValue[];
  status?: { code?: number | null; message?: string | null } | null;
}
interface DecodedRequest {
  resourceSpans: {
    resource?: { attributes: KeyValue[] } | null;
    scopeSpans: { scope?: { name: string } | null; spans: DecodedSpan[] }[];
  }[];
}
interface MessageType {
  decode(bytes: Uint8Array): DecodedRequest;
}
const root = createRequire(import.meta.url)('otlp-transformer-0.57/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: MessageType } } } } };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  spans(): readonly ReceivedSpan[];
  /** Every export body received, raw (for "no secret anywhere" checks). */
  bodies(): readonly Buffer[];
  /** Headers of every export request. */
  headers(): readonly IncomingHttpHeaders[];
  /** Resolves once `until` holds for the spans received (polling), or rejects after `timeoutMs`. */
  waitFor(until: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<readonly ReceivedSpan[]>;
  close(): Promise<void>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const hex = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('hex') : '');

function valueOf(v: AnyValue | null | undefined): AttributeValue {
  if (!v) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
  if (v.doubleValue != null) return v.doubleValue;
  return '';
}

function attributesOf(kvs: readonly KeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** What both receivers keep: every export body, its headers (or gRPC metadata), and the spans decoded. */
function collector() {
  const spans: ReceivedSpan[] = [];
  const bodies: Buffer[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const collect = (body: Buffer, from: IncomingHttpHeaders): void => {
    bodies.push(body);
    headers.push(from);
    const decoded = ExportTraceServiceRequest.decode(body);
    for (const rs of decoded.resourceSpans) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          spans.push({
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            name: s.name,
            kind: KINDS[s.kind] ?? 'unspecified',
            attributes: attributesOf(s.attributes),
            statusCode: s.status?.code ?? 0,
            statusMessage: s.status?.message ?? '',
            resource,
            scope: ss.scope?.name ?? '',
          });
        }
      }
    }
  };
  const view = (url: string, close: () => Promise<void>): OtlpReceiver => ({
    url,
    spans: () => spans,
    bodies: () => bodies,
    headers: () => headers,
    waitFor: async (until, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!until(spans)) {
        if (Date.now() > deadline) {
          throw new Error(`OTLP receiver: condition not met; spans: ${spans.map((s) => s.name).join(', ')}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return spans;
    },
    close,
  });
  return { collect, view };
}

/** OTLP/gRPC: the TraceService's one method, its messages kept as bytes and decoded as above. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const { collect, view } = collector();
  const server = new Server();
  const bytes = (b: Buffer): Buffer => b;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        // An empty ExportTraceServiceResponse: full success.
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: bytes,
      },
    },
    {
      Export: (
        call: { request: Buffer; metadata: Metadata },
        callback: (err: null, response: Buffer) => void,
      ): void => {
        const md = call.metadata.getMap();
        collect(call.request, Object.fromEntries(Object.entries(md).map(([k, v]) => [k, String(v)])));
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(err);
      else resolve(p);
    });
  });
  return view(`http://127.0.0.1:${port}`, () => {
    server.forceShutdown();
    return Promise.resolve();
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const { collect, view } = collector();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(415).end();
        return;
      }
      collect(Buffer.concat(chunks), req.headers);
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return view(`http://127.0.0.1:${port}`, async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
}
