/**
 * The OpenTelemetry {@link Tracer}: loaded by start.ts with a dynamic import only when tracing is on, so the
 * SDK, its exporters and gRPC are never in the process otherwise. Spans go through a batch processor to an OTLP
 * exporter (http/protobuf, or grpc), described by the standard `OTEL_*` variables as config/load.ts read them.
 *
 * The SDK's globals are left alone (no global tracer provider, context manager or propagator): each vestibule
 * started in a process (tests start several) has its own provider and async context.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span as OtelSpan,
  type Tracer as OtelTracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { parseTraceParent } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { OtelSettings, Span, SpanKind as OurKind, SpanOptions, Tracer } from './tracer.js';
import { failureOf, NOOP_SPAN } from './tracer.js';
import { otlpHeadersProblem, percentDecoded } from './otlp-headers.js';

export interface OtelStart {
  readonly version?: string | undefined;
  /** Where export failures are reported (never with a header value). */
  readonly warn: (message: string) => void;
}

/** The URL the exporter posts to and the protocol it speaks. */
export function exportTarget(s: OtelSettings): { protocol: 'grpc' | 'http/protobuf'; url: string } {
  const protocol = s.protocol === 'grpc' ? 'grpc' : 'http/protobuf';
  if (s.tracesEndpoint !== undefined) return { protocol, url: s.tracesEndpoint };
  if (protocol === 'grpc') return { protocol, url: s.endpoint ?? 'http://localhost:4317' };
  return { protocol, url: `${(s.endpoint ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces` };
}

/** OTEL_TRACES_SAMPLER as the specification names them. */
export function samplerOf(name: string, ratio: number): Sampler {
  const root = name.replace(/^parentbased_/, '');
  const base =
    root === 'always_off'
      ? new AlwaysOffSampler()
      : root === 'traceidratio'
        ? new TraceIdRatioBasedSampler(ratio)
        : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root: base }) : base;
}

async function exporterOf(s: OtelSettings): Promise<SpanExporter> {
  const { protocol, url } = exportTarget(s);
  if (protocol === 'grpc') {
    // loadConfig refuses these headers already (config/load.ts); checked again for settings built without it.
    const problem = otlpHeadersProblem(s.headers, 'grpc');
    if (problem !== undefined) throw new Error(`OTEL_EXPORTER_OTLP_HEADERS ${problem}`);
    const [{ OTLPTraceExporter }, grpc] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-grpc'),
      import('@grpc/grpc-js'),
    ]);
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(percentDecoded(s.headers))) {
      try {
        metadata.set(k, v);
      } catch {
        // Only if grpc-js became stricter than otlpHeadersProblem: its own message quotes the value (usually a
        // credential), and start-up errors are logged.
        throw new Error(
          'OTEL_EXPORTER_OTLP_HEADERS: an entry cannot be sent as gRPC metadata (not shown: it may hold a secret)',
        );
      }
    }
    // The scheme decides (http:// plaintext, https:// TLS, with the exporter's OTEL_EXPORTER_OTLP_CERTIFICATE
    // and friends); OTEL_EXPORTER_OTLP_INSECURE only for an endpoint without one, as the OTLP specification
    // says. Forcing plaintext onto an https:// endpoint would send the headers (an API key) in clear.
    const credentials =
      s.insecure === true && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? grpc.credentials.createInsecure() : undefined;
    return constructed(() => new OTLPTraceExporter({ url, metadata, ...(credentials ? { credentials } : {}) }));
  }
  const problem = otlpHeadersProblem(s.headers, 'http');
  if (problem !== undefined) throw new Error(`OTEL_EXPORTER_OTLP_HEADERS ${problem}`);
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return constructed(() => new OTLPTraceExporter({ url, headers: percentDecoded(s.headers) }));
}

/**
 * The exporter, made without its error's message: the constructor also reads OTEL_EXPORTER_OTLP_*_HEADERS from the
 * environment itself, and grpc-js' refusal quotes the entry (`Metadata string value "<secret>" …`).
 */
function constructed(make: () => SpanExporter): SpanExporter {
  try {
    return make();
  } catch (err) {
    // No `cause`: it is the message that quotes the header, and a logged error prints its cause.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `the OTLP trace exporter refused its settings (${(err as Error).name}; message not shown: it may quote a header)`,
    );
  }
}

/**
 * An export failure's message without what it quotes: Node's header errors put the header's name in brackets,
 * grpc-js puts keys and values in quotes, and either may be a credential. A quote cannot be paired safely (the
 * quoted text may hold one), so the message is kept only up to its first quote or bracket.
 */
export function scrubbedExportError(err: Error): string {
  const message = err.message.slice(0, 200);
  const quoted = message.search(/["'[`]/);
  return `${err.name}: ${quoted < 0 ? message : `${message.slice(0, quoted)}…`}`;
}

/** Longest wait for the last export when vestibule stops. */
const SHUTDOWN_EXPORT_MS = 2_000;

const KINDS: Record<OurKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
};

/** Our {@link Span} over an SDK span; its context makes it the parent of what runs {@link Tracer.within} it. */
class SdkSpan implements Span {
  readonly context: Context;
  readonly recording: boolean;
  readonly #span: OtelSpan;

  constructor(span: OtelSpan, parent: Context) {
    this.#span = span;
    this.recording = span.isRecording();
    this.context = trace.setSpan(parent, span);
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.#span.setAttribute(key, value);
  }

  fail(reason: string): void {
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  }

  end(): void {
    this.#span.end();
  }

  traceparent(): string {
    const c = this.#span.spanContext();
    return `00-${c.traceId}-${c.spanId}-0${(c.traceFlags & 1).toString(16)}`;
  }
}

/** A tracer with its own provider, batch exporter and async context. */
export async function startOtelTracer(s: OtelSettings, o: OtelStart): Promise<Tracer> {
  const attributes: Record<string, string> = {
    ...percentDecoded(s.resourceAttributes),
    ...(s.podName !== undefined ? { 'k8s.pod.name': s.podName } : {}),
  };
  attributes[ATTR_SERVICE_NAME] = s.serviceName ?? attributes[ATTR_SERVICE_NAME] ?? 'vestibule';
  if (o.version !== undefined) attributes['service.version'] ??= o.version;
  const exporter = await exporterOf(s);
  const reporting: SpanExporter = {
    export: (spans, done) => {
      exporter.export(spans, (result) => {
        if (result.error) o.warn(`trace export failed: ${scrubbedExportError(result.error)}`);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(attributes)),
    sampler: samplerOf(s.sampler, s.samplerArg),
    spanProcessors: [new BatchSpanProcessor({ exporter: reporting, scheduledDelayMillis: s.batchDelayMs })],
  });
  const contexts = new AsyncLocalStorageContextManager().enable();
  return new SdkTracer(provider.getTracer('vestibule', o.version), contexts, provider, o.warn);
}

class SdkTracer implements Tracer {
  readonly enabled = true;
  readonly #tracer: OtelTracer;
  readonly #contexts: AsyncLocalStorageContextManager;
  readonly #provider: TracerProvider;
  readonly #warn: (message: string) => void;

  constructor(
    tracer: OtelTracer,
    contexts: AsyncLocalStorageContextManager,
    provider: TracerProvider,
    warn: (message: string) => void,
  ) {
    this.#tracer = tracer;
    this.#contexts = contexts;
    this.#provider = provider;
    this.#warn = warn;
  }

  startSpan(name: string, o: SpanOptions = {}): Span {
    let parent: Context;
    if (o.parent !== undefined) {
      const remote = parseTraceParent(o.parent);
      parent = remote ? trace.setSpanContext(ROOT_CONTEXT, { ...remote, isRemote: true }) : ROOT_CONTEXT;
    } else {
      parent = this.#contexts.active();
      if (o.onlyWithinRecordedTrace === true && trace.getSpan(parent)?.isRecording() !== true) return NOOP_SPAN;
    }
    const span = this.#tracer.startSpan(
      name,
      { kind: KINDS[o.kind ?? 'internal'], ...(o.attributes ? { attributes: o.attributes } : {}) },
      parent,
    );
    return new SdkSpan(span, parent);
  }

  async withSpan<T>(name: string, f: (span: Span) => Promise<T>, o?: SpanOptions): Promise<T> {
    const span = this.startSpan(name, o);
    try {
      return await this.within(span, () => f(span));
    } catch (err) {
      span.fail(failureOf(err));
      throw err;
    } finally {
      span.end();
    }
  }

  within<T>(span: Span, f: () => T): T {
    return span instanceof SdkSpan ? this.#contexts.with(span.context, f) : f();
  }

  /**
   * Exports the last spans, waiting at most {@link SHUTDOWN_EXPORT_MS}: a collector that is down or slow loses
   * them, and never fails or holds up vestibule's shutdown (the exporter would retry for up to 30 s).
   */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), SHUTDOWN_EXPORT_MS).unref();
    });
    try {
      if ((await Promise.race([this.#provider.shutdown(), late])) === 'late') {
        this.#warn(`trace export at shutdown took over ${SHUTDOWN_EXPORT_MS} ms; the last spans are dropped`);
      }
    } catch (err) {
      this.#warn(`trace export at shutdown failed: ${failureOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
    this.#contexts.disable();
  }
}
