import pino, { type Logger } from 'pino';

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

export function createLogger(o: LoggerOptions): Logger {
  return pino(
    {
      level: o.level,
      base: { service: 'vestibule' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    o.destination ?? pino.destination({ sync: false }),
  );
}
