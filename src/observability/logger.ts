import pino, { type Logger } from 'pino';
import { AccessLog } from './access-log.js';
import { TurnBatch } from './turn-batch.js';

/**
 * Paths pino censors wherever they appear in a log object: tokens, codes, cookies, Authorization and
 * secrets. The code never logs these on purpose; this is the net under that rule (proved by a test that logs
 * a whole login at debug level).
 */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'set-cookie',
  '*.authorization',
  '*.cookie',
  '*["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.client_assertion',
  '*.assertion',
  '*.code',
  '*.code_verifier',
  '*.user_token',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'user_token',
  'token',
];

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go (stdout by default; tests capture them). */
  readonly destination?: pino.DestinationStream;
}

/** The root logger (redacting) and the per-request access logger that shares its destination. */
export interface Loggers {
  readonly log: Logger;
  /**
   * Writes the one line per request, into the same destination; undefined when the level is above info.
   * Its fields are built by vestibule from bounded values (method, route class, status, ids in a checked
   * format), never from tokens or headers, so it skips the logger and its redaction pass: on the hot path
   * those cost more than the rest of the request's own work.
   */
  readonly access: AccessLog | undefined;
}

const BASE = {
  base: { service: 'vestibule' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
} as const;

export function createLoggers(o: LoggerOptions): Loggers {
  const destination = o.destination ?? bufferedStdout();
  const log = pino({ ...BASE, level: o.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
  const access = log.isLevelEnabled('info') ? new AccessLog(destination) : undefined;
  return { log, access };
}

/**
 * stdout through a 4 KiB buffer, flushed at least every 250 ms: one write per batch, not per line. In front of
 * it, the lines of one event-loop turn are joined (see TurnBatch).
 */
function bufferedStdout(): pino.DestinationStream {
  const batch = new TurnBatch(pino.destination({ sync: false, minLength: 4096 }));
  setInterval(() => {
    batch.flush();
  }, 250).unref();
  process.once('exit', () => {
    batch.flushSync();
  });
  return batch;
}

/** The root logger alone (tests and tools that do not serve requests). */
export function createLogger(o: LoggerOptions): Logger {
  return createLoggers(o).log;
}
