/**
 * One memory-reducing full collection when a process that was busy has gone quiet. Under load V8's old space
 * grows and fragments; its memory reducer, once the load stops, collects but leaves most of that reserved (at
 * rest 31 MB reserved for 19 MB live was seen). A forced "last resort" collection compacts the old space and
 * gives the free pages back, the collection V8 itself runs before it reports out of memory.
 *
 * It blocks the loop while it runs (two compacting mark-compacts: tens of ms for vestibule's ~20–30 MB heap at
 * rest, ~140 ms for a 100 MB heap), so it waits for a process with nothing to do: an unref'd timer samples every
 * `checkMs`, and only after a busy window followed by `quietMs` in which not one request arrived or was
 * answered, no websocket was open and the loop was almost idle (probes and scrapes do not count) does it collect,
 * once (a request that arrived earlier and is still running, a long upload or a slow upstream, is not seen);
 * the next collection waits for the next busy spell, and for `minIntervalMs`. A heap larger than `maxHeapBytes`
 * is left to V8 (the pause would grow with it). Where `gc` cannot be had (a Node that refuses the flag), it does
 * nothing.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
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
  /**
   * A count that moves whenever a request arrives or is answered (vestibule's `Metrics.arrived + answered`; NaN
   * while something long-lived, a websocket, is open); a window in which it moved is busy, whatever the loop's
   * utilisation.
   */
  readonly activity?: () => number;
  /** No collection while V8's heap holds more than this (bytes). */
  readonly maxHeapBytes?: number;
  /** Told when `gc` cannot be had: the compaction is off. */
  readonly onUnavailable?: (err: Error) => void;
  /** Makes the collection (tests pass their own); {@link lastResortGc} by default. */
  readonly collector?: () => () => void;
  /** Called after each collection with how long it took (ms) and the heap's used bytes before and after. */
  readonly onCollect?: (ms: number, heapBefore: number, heapAfter: number) => void;
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
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  if (typeof gc !== 'function') throw new Error('this Node does not expose gc to a new context');
  const run = gc as (options: object) => void;
  return () => {
    run({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  };
}

/** Starts watching; the returned function stops it. The timer never keeps the process alive. */
export function startIdleCompaction(o: IdleCompactionOptions = {}): () => void {
  const checkMs = o.checkMs ?? 2_000;
  const decide = new QuietAfterBusy(o.quietMs ?? 10_000, o.busyUtilization ?? 0.01, o.minIntervalMs ?? 60_000);
  const maxHeap = o.maxHeapBytes ?? 96 * 1024 * 1024;
  let collect: () => void;
  try {
    collect = (o.collector ?? lastResortGc)();
  } catch (err) {
    // A memory optimisation must never stop the service from starting.
    o.onUnavailable?.(err as Error);
    return () => undefined;
  }
  const activity = o.activity ?? (() => 0);
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let seen = activity();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    const count = activity();
    // A window with a request answered is busy, however little of the loop it took.
    // NaN never equals itself: an open websocket makes every window busy.
    const utilization = count === seen ? window.utilization : 1;
    seen = count;
    if (!decide.window(utilization, window.idle + window.active)) return;
    const before = getHeapStatistics().used_heap_size;
    if (before > maxHeap) return;
    const started = performance.now();
    collect();
    const ms = performance.now() - started;
    // The collection's own time is not load: the next window starts after it.
    last = performance.eventLoopUtilization();
    o.onCollect?.(ms, before, getHeapStatistics().used_heap_size);
  }, checkMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
