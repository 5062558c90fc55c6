/**
 * The tracing seam: what vestibule's code calls to record a span, whether or not tracing is on. The no-op
 * {@link NOOP_TRACER} is the default; the OpenTelemetry one (tracing/otel.ts) is loaded by start.ts only when an
 * exporter is configured, so neither the image's idle memory nor a proxied request pays for tracing when it is
 * off. Hot paths ask {@link Tracer.enabled} once, at construction, and then add no work at all.
 */

/** A span attribute value. Never a token, code, cookie, `sid`, state, nonce or a URL's query. */
export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

/** The exporter's settings (OTEL_*), as config/load.ts reads them; here so the seam, not the SDK module, owns them. */
export interface OtelSettings {
  readonly serviceName?: string | undefined;
  readonly endpoint?: string | undefined;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: used as given. */
  readonly tracesEndpoint?: string | undefined;
  readonly protocol?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly sampler: string;
  readonly samplerArg: number;
  readonly batchDelayMs: number;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly podName?: string | undefined;
}

export type SpanKind = 'server' | 'client' | 'internal';

export interface Span {
  /** False for a span that records nothing: the no-op one, or one the sampler dropped. */
  readonly recording: boolean;
  setAttribute(key: string, value: AttributeValue): void;
  /** Marks the span failed; `reason` is a bounded description (an error code), never a secret. */
  fail(reason: string): void;
  end(): void;
  /** The W3C `traceparent` naming this span, to send downstream; '' for the no-op span. */
  traceparent(): string;
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /**
   * The parent: the span active in the current async context when omitted, or a caller's `traceparent` (a
   * server span's remote parent; ignored when malformed).
   */
  readonly parent?: string | undefined;
  /**
   * Nothing at all (the no-op span, no allocation) unless the active span records: a store call outside any
   * request is no trace, and a child of a span the sampler dropped would be dropped too (same trace id, same
   * decision), so an unsampled request pays for its server span only.
   */
  readonly onlyWithinRecordedTrace?: boolean;
}

export interface Tracer {
  /** False for the no-op tracer: callers that would wrap something skip the wrapping altogether. */
  readonly enabled: boolean;
  /** Starts a span; the caller ends it. It does not become the active span (see {@link withSpan}, {@link within}). */
  startSpan(name: string, o?: SpanOptions): Span;
  /** Runs `f` with a new span active (children nest under it), ending it when `f` settles; failures mark it. */
  withSpan<T>(name: string, f: (span: Span) => Promise<T>, o?: SpanOptions): Promise<T>;
  /** Runs `f` with `span` active, so spans started within it (and its async continuations) are its children. */
  within<T>(span: Span, f: () => T): T;
  /** Exports what is buffered and stops; the no-op resolves at once. */
  shutdown(): Promise<void>;
}

/** The one span of the no-op tracer: shared and frozen, so recording nothing allocates nothing. */
export const NOOP_SPAN: Span = Object.freeze({
  recording: false,
  setAttribute: () => undefined,
  fail: () => undefined,
  end: () => undefined,
  traceparent: () => '',
});

export const NOOP_TRACER: Tracer = Object.freeze({
  enabled: false,
  startSpan: () => NOOP_SPAN,
  withSpan: <T>(_name: string, f: (span: Span) => Promise<T>) => f(NOOP_SPAN),
  within: <T>(_span: Span, f: () => T) => f(),
  shutdown: () => Promise.resolve(),
});

/** Bounded description of a failure for a span's status: the error's code or class name, never its message. */
export function failureOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(name)) return name;
  }
  return 'error';
}
