import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Fastify makes a child logger (bound to the request id) for every request, and with redaction on, making
 * one costs more than most of a proxied request's own work; yet almost no request logs through it (the access
 * line has its own writer). This factory hands out a stand-in that makes the real child on first use.
 */
export const lazyChildLoggers: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new LazyChild(logger, bindings, options as Record<string, unknown>);

/** One small object per request: its methods live on the prototype, not in per-request closures. */
class LazyChild {
  #real: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Record<string, unknown>;
  readonly #options: Record<string, unknown>;

  constructor(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #get(): FastifyBaseLogger {
    return (this.#real ??= this.#parent.child(this.#bindings, this.#options));
  }

  #log(level: Exclude<Level, 'silent'>, args: unknown[]): void {
    const target = this.#get();
    Reflect.apply(target[level], target, args);
  }

  get level(): string {
    return this.#real?.level ?? this.#parent.level;
  }

  set level(value: string) {
    this.#get().level = value;
  }

  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.#get().child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#log('error', args);
  }

  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }

  info(...args: unknown[]): void {
    this.#log('info', args);
  }

  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }

  silent(): void {
    // Nothing is logged at level silent.
  }
}
