import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Fastify makes a child logger (bound to the request id) for every request, and with redaction on, making
 * one costs more than most of a proxied request's own work; yet almost no request logs through it (the access
 * line has its own writer). This factory hands out a stand-in that makes the real child on first use.
 */
export const lazyChildLoggers: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  lazyChild(logger, bindings, options as Record<string, unknown>);

function lazyChild(
  parent: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: Record<string, unknown>,
): FastifyBaseLogger {
  let real: FastifyBaseLogger | undefined;
  const get = (): FastifyBaseLogger => (real ??= parent.child(bindings, options));
  const stand = {
    get level() {
      return real?.level ?? parent.level;
    },
    set level(value: string) {
      get().level = value;
    },
    child: (b: Record<string, unknown>, o?: Record<string, unknown>) => get().child(b, o),
  } as Record<string, unknown>;
  for (const level of LEVELS) {
    stand[level] = (...args: unknown[]): void => {
      const target = get();
      Reflect.apply(target[level], target, args);
    };
  }
  return stand as unknown as FastifyBaseLogger;
}
