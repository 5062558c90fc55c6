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
 * The entries as the OpenTelemetry exporter reads the variable itself (`parseKeyPairsIntoRecord` of
 * @opentelemetry/core, which it applies to the environment beside what vestibule hands it): each comma-separated
 * entry cut at `;`, key and value trimmed and both %-decoded, an entry that does not decode or has an empty key or
 * value left out. Written out here so the config need not load the SDK.
 */
export function asTheExporterReadsThem(raw: string): [key: string, value: string][] {
  const out: [string, string][] = [];
  for (const entry of raw.split(',')) {
    const pair = entry.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key === '' || value === '') continue;
    try {
      out.push([decodeURIComponent(key), decodeURIComponent(value)]);
    } catch {
      // left out by the exporter too
    }
  }
  return out;
}

function problemOf(entries: readonly (readonly [string, string])[], protocol: 'grpc' | 'http'): string | undefined {
  const rule = RULES[protocol];
  const bad = entries.findIndex(([k, v]) => !rule.sendable(k, v));
  if (bad < 0) return undefined;
  return `entry ${bad + 1} of ${entries.length} ${rule.wording}; not shown: it may hold a secret)`;
}

/**
 * Why `headers` (as vestibule parsed them, values still %-encoded) cannot be sent over `protocol`, or undefined
 * when they can; with `raw` (the variable as given), the entries as the exporter reads them itself must be
 * sendable too (it decodes keys as well, and cuts at `;`). The problem names the entry by position and never
 * quotes it: the value is usually a credential, and a key can hold one too (`Bearer a=b`). Follows
 * config/settings.ts' wording, without the variable's name.
 */
export function otlpHeadersProblem(
  headers: Readonly<Record<string, string>>,
  protocol: 'grpc' | 'http',
  raw?: string,
): string | undefined {
  return (
    problemOf(Object.entries(percentDecoded(headers)), protocol) ??
    (raw === undefined ? undefined : problemOf(asTheExporterReadsThem(raw), protocol))
  );
}
