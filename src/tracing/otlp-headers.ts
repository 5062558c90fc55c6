/**
 * The rules of OTEL_EXPORTER_OTLP_HEADERS (and OTEL_EXPORTER_OTLP_TRACES_HEADERS) that the exporter and the config
 * share: how values are decoded, and which entries can be sent, as gRPC metadata or as HTTP headers. Pure and free
 * of the SDK, so config/load.ts refuses an entry before start-up while the exporter (otel.ts, loaded only with
 * tracing on) applies the same rule. An entry sent anyway would fail every export, and the failure's message
 * quotes it (Node: `Header name must be a valid HTTP token ["Bearer <key>"]`).
 */

/** %-decoded values (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS); a malformed escape is kept as is. */
export function percentDecoded(pairs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pairs)) {
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * What @grpc/grpc-js' Metadata.set accepts for a text value: the key lower-cased (as it sends it) of 0-9 a-z _ . -,
 * not ending in -bin (those carry binary values), and a value of printable ASCII. grpc-js also lets a `:` into a
 * key, an HTTP/2 pseudo-header that no collector reads as metadata: refused here. otlp-headers.test.ts checks
 * this against grpc-js itself.
 */
function grpcSendable(key: string, value: string): boolean {
  const k = key.toLowerCase();
  return /^[0-9a-z_.-]+$/.test(k) && !k.endsWith('-bin') && /^[ -~]*$/.test(value);
}

/**
 * What Node's HTTP client accepts in a header (the OTLP http/protobuf exporter): a key that is an RFC 9110
 * token, a value of tab, printable ASCII and Latin-1 (no CR, LF or NUL). otlp-headers.test.ts checks this against
 * node:http itself.
 */
function httpSendable(key: string, value: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) && /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

const RULES = {
  grpc: {
    sendable: grpcSendable,
    wording:
      'cannot be sent as gRPC metadata (keys: letters, digits, _ . - and not ending in -bin; values, once %-decoded: printable ASCII',
  },
  http: {
    sendable: httpSendable,
    wording:
      "cannot be sent as an HTTP header (keys: letters, digits and !#$%&'*+.^_`|~- ; values, once %-decoded: no line breaks or control characters",
  },
} as const;

/**
 * Why `headers` (as parsed, values still %-encoded) cannot be sent over `protocol`, or undefined when they can.
 * The problem names the entry by position and never quotes it: the value is usually a credential, and a key can
 * hold one too (`Bearer a=b`). Follows config/settings.ts' wording, without the variable's name.
 */
export function otlpHeadersProblem(
  headers: Readonly<Record<string, string>>,
  protocol: 'grpc' | 'http',
): string | undefined {
  const rule = RULES[protocol];
  const entries = Object.entries(percentDecoded(headers));
  const bad = entries.findIndex(([k, v]) => !rule.sendable(k, v));
  if (bad < 0) return undefined;
  return `entry ${bad + 1} of ${entries.length} ${rule.wording}; not shown: it may hold a secret)`;
}
