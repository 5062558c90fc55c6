import type { RouteClass } from './metrics.js';

/** The fields of the one line per request. */
export interface AccessEntry {
  /** The caller's X-Request-Id when well-formed ([A-Za-z0-9._:-]{1,128}), else a UUID. */
  readonly reqId: string;
  /** As Node's parser accepted it: an HTTP token, nothing to escape. */
  readonly method: string;
  readonly route: RouteClass;
  readonly status: number;
  readonly durationMs: number;
  /** Whether a session came with a proxied request; undefined on vestibule's own routes. */
  readonly session: boolean | undefined;
  /** 32 hex digits. */
  readonly traceId: string;
}

/** Where the lines go: pino's destination (same stream, same buffering as the other log lines). */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * Writes the access line in exactly the shape pino writes the other lines (`level`, `time`, `service`, the
 * fields, `msg`), assembled by hand: every field is a number, a boolean or a string of a checked alphabet
 * (see {@link AccessEntry}), so nothing needs escaping or redacting, and on the proxy's hot path this costs a
 * fraction of a logger call.
 */
export class AccessLog {
  readonly #sink: LineSink;
  #isoMs = -1;
  #iso = '';

  constructor(sink: LineSink) {
    this.#sink = sink;
  }

  write(e: AccessEntry): void {
    const session = e.session === undefined ? '' : `,"session":${e.session ? 'true' : 'false'}`;
    this.#sink.write(
      `{"level":"info","time":"${this.#time()}","service":"vestibule","reqId":"${e.reqId}","method":"${e.method}",` +
        `"route":"${e.route}","status":${e.status},"durationMs":${e.durationMs}${session},` +
        `"traceId":"${e.traceId}","msg":"request"}\n`,
    );
  }

  /** ISO time, formatted once per millisecond rather than once per line. */
  #time(): string {
    const now = Date.now();
    if (now !== this.#isoMs) {
      this.#isoMs = now;
      this.#iso = new Date(now).toISOString();
    }
    return this.#iso;
  }
}
