import type { Socket } from 'node:net';
import { watchSilence } from './silence-watch.js';

/**
 * How far a client's connection has got, or undefined when nothing written to it is unsent (a connection that
 * waits on us, as a pipelined answer queued behind a slow one, is never the client's silence): the bytes of
 * writes that completed, and what libuv still queues of the one in flight. Only a client that reads lets the
 * kernel take more, so any change is the client's progress.
 */
function progressOf(socket: Socket): string | undefined {
  if (socket.writableLength === 0) return undefined;
  // writeQueueSize is libuv's queue on the TCP handle (what `net` itself reads for its buffer sizes).
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle;
  const queued = typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
  // bytesWritten counts what is still buffered as well; writableLength is that plus the write in flight.
  return `${socket.bytesWritten - socket.writableLength}/${queued}`;
}

/**
 * Calls `onStall` once when the client's connection has held unsent bytes for `limitMs` without the client
 * taking any: nginx's `send_timeout` (the time between two successive writes to the client), which undici does
 * not give a paused answer. Read `limitMs / 4` apart, so the cut comes between `limitMs` and 1.25 × `limitMs`
 * after the last progress. Returns the function that stops watching.
 *
 * The kernel takes a slow reader's bytes in bursts as its receive window opens (measured on loopback with Linux's
 * default buffers: roughly 1.5 MB at a time), so `limitMs` must be far above a burst's time at the slowest rate
 * to be served: the default `VESTIBULE_SEND_TIMEOUT` (60 s) cuts nothing reading faster than roughly 25 KB/s.
 */
export function watchForStall(socket: Socket, limitMs: number, onStall: () => void): () => void {
  return watchSilence(() => progressOf(socket), limitMs, Math.max(1, Math.floor(limitMs / 4)), onStall);
}
