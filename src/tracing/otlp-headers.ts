/**
 * The rules of OTEL_EXPORTER_OTLP_HEADERS that the exporter and the config share: how its values are decoded,
 * and which entries gRPC can send as metadata. Pure and free of the SDK, so config/load.ts refuses an entry
 * before start-up while the exporter (otel.ts, loaded only with tracing on) applies the same rule.
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
 * key, an HTTP/2 pseudo-header that no collector reads as metadata: refused here. otel.test.ts checks this
 * against grpc-js itself.
 */
function sendable(key: string, value: string): boolean {
  const k = key.toLowerCase();
  return /^[0-9a-z_.-]+$/.test(k) && !k.endsWith('-bin') && /^[ -~]*$/.test(value);
}

/**
 * Why `headers` (as parsed, values still %-encoded) cannot be sent as gRPC metadata, or undefined when they can.
 * The problem names the entry by position and never quotes it: the value is usually a credential, and a key can
 * hold one too (`Bearer a=b`). Follows config/settings.ts' wording, without the variable's name.
 */
export function grpcMetadataProblem(headers: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(percentDecoded(headers));
  const bad = entries.findIndex(([k, v]) => !sendable(k, v));
  if (bad < 0) return undefined;
  return `entry ${bad + 1} of ${entries.length} cannot be sent as gRPC metadata (keys: letters, digits, _ . - and not ending in -bin; values, once %-decoded: printable ASCII; not shown: it may hold a secret)`;
}
