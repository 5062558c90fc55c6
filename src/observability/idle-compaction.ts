/**
 * One memory-reducing full collection when a process that was busy has gone quiet. Under load V8's old space
 * grows and fragments; its memory reducer, once the load stops, collects but leaves most of that reserved (at
 * rest 31 MB reserved for 19 MB live was seen). A forced "last resort" collection compacts the old space and
 * gives the free pages back, the collection V8 itself runs before it reports out of memory.
 *
 * It never runs on a request path: an unref'd timer samples the event loop's utilisation every `checkMs`, and
 * only after a window busier than `busyUtilization` followed by `quietMs` of windows below it does it collect,
 * once; the next collection waits for the next busy window, and for a minute to have passed. The collection blocks the loop for its duration
 * (tens of ms for a heap of ~50 MB), so it is made when nothing was asking for the loop.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleCompactionOptions {
  /** How long the loop must have been quiet after a busy spell (ms). */
  readonly quietMs?: number;
  /** How often the loop's utilisation is sampled (ms). */
  readonly checkMs?: number;
  /** The share of a window the loop must have been busy for the window to count as busy (0–1). */
  readonly busyUtilization?: number;
  /** Least time between two collections (ms): a pause of tens of ms at most this often. */
  readonly minIntervalMs?: number;
  /** The collection (tests pass their own). */
  readonly collect?: () => void;
  /** Called after each collection with how long it took (ms). */
  readonly onCollect?: (ms: number) => void;
}

/** The decisions, apart from timers and V8: fed one window's utilisation at a time. */
export class QuietAfterBusy {
  #busySeen = false;
  #quietMs = 0;
  /** Time since the last collection (none yet: as if long ago). */
  #sinceCollectMs = Infinity;
  readonly #quietNeededMs: number;
  readonly #busyUtilization: number;
  readonly #minIntervalMs: number;

  constructor(quietNeededMs: number, busyUtilization: number, minIntervalMs = 0) {
    this.#quietNeededMs = quietNeededMs;
    this.#busyUtilization = busyUtilization;
    this.#minIntervalMs = minIntervalMs;
  }

  /**
   * True when this window completes `quietNeededMs` of quiet after a busy window, and the last collection is at
   * least `minIntervalMs` ago (traffic in short bursts would otherwise pause the loop after every burst): collect
   * now. A quiet spell that comes too soon stays armed until the interval has passed.
   */
  window(utilization: number, ms: number): boolean {
    this.#sinceCollectMs += ms;
    if (utilization > this.#busyUtilization) {
      this.#busySeen = true;
      this.#quietMs = 0;
      return false;
    }
    if (!this.#busySeen) return false;
    this.#quietMs += ms;
    if (this.#quietMs < this.#quietNeededMs || this.#sinceCollectMs < this.#minIntervalMs) return false;
    this.#busySeen = false;
    this.#quietMs = 0;
    this.#sinceCollectMs = 0;
    return true;
  }
}

/** V8's memory-reducing full collection (`gc` from a context made with --expose-gc; the main one is unchanged). */
export function lastResortGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: object) => void;
  return () => {
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  };
}

/** Starts watching; the returned function stops it. The timer never keeps the process alive. */
export function startIdleCompaction(o: IdleCompactionOptions = {}): () => void {
  const checkMs = o.checkMs ?? 2_000;
  const decide = new QuietAfterBusy(o.quietMs ?? 10_000, o.busyUtilization ?? 0.05, o.minIntervalMs ?? 60_000);
  const collect = o.collect ?? lastResortGc();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    if (!decide.window(window.utilization, window.idle + window.active)) return;
    const started = performance.now();
    collect();
    const ms = performance.now() - started;
    // The collection's own time is not load: the next window starts after it.
    last = performance.eventLoopUtilization();
    o.onCollect?.(ms);
  }, checkMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
