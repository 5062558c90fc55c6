/**
 * Where a run is: the step under way (target, round, connection count), the time since the start and an estimate
 * of what is left, on stderr. In a terminal it is one line rewritten in place (`\r` and clear-line), with the
 * bench's other messages printed above it; otherwise (CI, a pipe, a file) every step is a plain line of its own.
 *
 * The estimate is the planned seconds still to come (load runs, warm-ups, the rest, the extras), scaled by how
 * much longer than planned the steps so far took (start-up, seeding, process exits).
 */

export interface ProgressSink {
  readonly isTTY?: boolean | undefined;
  write(chunk: string): unknown;
}

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function clock(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class Progress {
  readonly #out: ProgressSink;
  readonly #now: () => number;
  readonly #start: number;
  #plannedTotal: number;
  /** Planned seconds of the steps finished so far, and when the last one finished. */
  #plannedDone = 0;
  #current: { label: string; plannedSec: number } | undefined;
  /** The progress line is on screen (TTY only) and must be cleared before anything else is printed. */
  #shown = false;

  constructor(plannedTotalSec: number, out: ProgressSink = process.stderr, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#start = now();
    this.#plannedTotal = plannedTotalSec;
  }

  get #tty(): boolean {
    return this.#out.isTTY === true;
  }

  /** Seconds since the start. */
  elapsedSec(): number {
    return (this.#now() - this.#start) / 1000;
  }

  /** Estimated seconds left: the planned remainder, stretched by how the finished steps ran against plan. */
  remainingSec(): number {
    const left = Math.max(0, this.#plannedTotal - this.#plannedDone);
    const elapsed = this.elapsedSec();
    const pace = this.#plannedDone > 0 ? Math.max(1, elapsed / this.#plannedDone) : 1;
    return left * pace;
  }

  /** Adds planned work found out later (e.g. a target skipped or one more step); negative to take it away. */
  replan(deltaSec: number): void {
    this.#plannedTotal = Math.max(this.#plannedDone, this.#plannedTotal + deltaSec);
  }

  /** A step begins; the previous one (if any) counts as done. */
  step(label: string, plannedSec: number): void {
    this.#finish();
    this.#current = { label, plannedSec };
    this.#draw();
  }

  /** The current step is done; nothing new begins yet. */
  #finish(): void {
    if (this.#current) this.#plannedDone += this.#current.plannedSec;
    this.#current = undefined;
  }

  line(): string {
    const what = this.#current?.label ?? 'between steps';
    return `bench: [${clock(this.elapsedSec())} elapsed, ~${clock(this.remainingSec())} left] ${what}`;
  }

  #draw(): void {
    if (this.#tty) {
      this.#out.write(`\r\x1b[2K${this.line()}`);
      this.#shown = true;
    } else {
      this.#out.write(`${this.line()}\n`);
    }
  }

  /** A message of its own, above the progress line in a terminal. */
  log(message: string): void {
    if (this.#shown) this.#out.write('\r\x1b[2K');
    this.#out.write(`bench: ${message}\n`);
    if (this.#shown) this.#out.write(this.line());
  }

  /** The run is over: the last step counts as done, and the terminal line is cleared. */
  end(): void {
    this.#finish();
    if (this.#shown) this.#out.write('\r\x1b[2K');
    this.#shown = false;
  }
}
