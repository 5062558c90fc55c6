import type { Socket } from 'node:net';

/**
 * How far a client's connection has got: the bytes of writes that completed, and what libuv still queues of the
 * one in flight. Only a client that reads lets the kernel take more, so any change is the client's progress.
 */
function progressOf(socket: Socket): { readonly completed: number; readonly queued: number } {
  // writeQueueSize is libuv's queue on the TCP handle (what `net` itself reads for its buffer sizes).
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle;
  const queued = typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
  // bytesWritten counts what is still buffered as well; writableLength is that plus the write in flight.
  return { completed: socket.bytesWritten - socket.writableLength, queued };
}

/**
 * Calls `onStall` once when the client's connection has held unsent bytes for `limitMs` without the client
 * taking any: nginx's `send_timeout` (the time between two successive writes to the client), which undici does
 * not give a paused answer. A connection with nothing unsent waits on us, not on the client (a pipelined answer
 * queued behind a slow one), and is never cut. Checked `limitMs / 4` apart, so the cut comes between `limitMs`
 * and 1.25 × `limitMs` after the last progress. Returns the function that stops watching.
 *
 * The kernel takes a slow reader's bytes in bursts as its receive window opens (measured on loopback with Linux's
 * default buffers: roughly 1.5 MB at a time), so `limitMs` must be far above a burst's time at the slowest rate
 * to be served: the default `VESTIBULE_SEND_TIMEOUT` (60 s) cuts nothing reading faster than roughly 25 KB/s.
 */
export function watchForStall(socket: Socket, limitMs: number, onStall: () => void): () => void {
  let last = progressOf(socket);
  // A monotonic clock: a wall-clock step must not cut a connection.
  let since = performance.now();
  const timer = setInterval(
    () => {
      const now = performance.now();
      const p = progressOf(socket);
      if (socket.writableLength === 0 || p.completed !== last.completed || p.queued !== last.queued) {
        last = p;
        since = now;
        return;
      }
      if (now - since < limitMs) return;
      clearInterval(timer);
      onStall();
    },
    Math.max(1, Math.floor(limitMs / 4)),
  );
  // The connection keeps the process alive while it matters; the watch alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
