/**
 * Calls `onSilent` once when `progress()` has read the same for `limitMs`: a peer that owes us bytes and moves
 * none of them. `progress` answers undefined while nothing is owed (the wait is vestibule's or the app's, not the
 * peer's), which restarts the clock. Read `everyMs` apart on a monotonic clock (a wall-clock step must not cut a
 * connection), so the call comes between `limitMs` and `limitMs + everyMs` after the last change. Returns the
 * function that stops watching. The one mechanism behind the send timeout (stalled-reader.ts) and the proxied
 * body's silence (body-stall.ts).
 */
export function watchSilence(
  progress: () => string | number | undefined,
  limitMs: number,
  everyMs: number,
  onSilent: () => void,
): () => void {
  let last = progress();
  let since = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const p = progress();
    if (p === undefined || p !== last) {
      last = p;
      since = now;
    } else if (now - since >= limitMs) {
      clearInterval(timer);
      onSilent();
    }
  }, everyMs);
  // The connection keeps the process alive while it matters; the watch alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
