import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import Pool from 'undici/lib/dispatcher/pool.js';
import type { PoolCore } from 'undici/lib/dispatcher/pool.js';
import { announcesBody } from './body-stall.js';
import { answerClaimsChallenge, readClaimsChallenge, type ClaimsChallengeTarget } from './claims-challenge.js';
import { connectionListed, isHopByHop } from './hop-by-hop.js';
import { privateAnswer } from './private-answer.js';
import { latin1 } from './raw-header.js';
import { watchForStall } from './stalled-reader.js';

export interface ForwarderOptions {
  /** The app's origin (http or https). */
  readonly upstream: string;
  /** Longest wait for the app's response headers, and longest silence between two body chunks. */
  readonly timeoutMs: number;
  /** Longest a client may take none of an answer waiting for it; its connection is then closed (stalled-reader.ts). */
  readonly sendTimeoutMs: number;
  /** Keep-alive connections to the app at most. */
  readonly connections: number;
}

/** Why a request could not be forwarded before the app answered: the caller sends the error response. */
export type ForwardFailure = 'timeout' | 'unreachable';

export interface ForwardRequest {
  readonly method: string;
  /** The raw request target (path and query), passed on byte for byte. */
  readonly url: string;
  readonly headers: Record<string, string | string[]>;
  /** The client's request: its body is streamed to the app when it has one. */
  readonly raw: IncomingMessage;
  /** The client's response, written directly once the app's headers arrive. */
  readonly res: ServerResponse;
  /** Set-Cookie values of our own to add to the app's (a renewed session cookie). */
  readonly setCookies?: readonly string[] | undefined;
  /**
   * Set when the session's token goes with the request: a 401 of the app with a claims challenge
   * (`insufficient_claims`) is then answered there with a fresh login (claims-challenge.ts) instead of passed on.
   */
  readonly claimsChallenge?: ClaimsChallengeTarget | undefined;
}

export interface ForwardEvents {
  /** The app's headers arrived (before they are written): the caller stops Fastify's own reply here. */
  readonly onResponse: (statusCode: number) => void;
  /** Nothing was written to the client yet: the caller answers 502/504. */
  readonly onFailure: (kind: ForwardFailure, error: Error) => void;
  /** The app's answer broke off after its headers were passed on; the client's connection is cut. */
  readonly onBroken?: (() => void) | undefined;
  /** The client left (or was cut) before the answer was complete; the app's side is stopped. Called at most once. */
  readonly onClientGone?: ((phase: ClientGonePhase) => void) | undefined;
}

/**
 * When a client went: before the app's headers (nginx logs these as 499), during the app's body, or cut by us
 * for taking none of the answer for the timeout (stalled-reader.ts).
 */
export type ClientGonePhase = 'waiting' | 'reading' | 'stalled';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Why a forwarded request is aborted when its client has closed the connection (no answer goes anywhere). */
const CLIENT_GONE = new Error('client closed the connection');
/** Why a forwarded request is aborted when its client has taken none of the answer for the timeout. */
const CLIENT_STALLED = new Error('client stopped reading the answer');

/**
 * Streams requests to the app over a keep-alive pool and the answers straight back: no buffering, no
 * re-parsing of the query, hop-by-hop headers dropped both ways. Built on undici's dispatch API, the
 * lowest-level one it has, so a proxied request costs one handler object and a header copy (see
 * docs/architecture.md for why not @fastify/reply-from).
 */
export class Forwarder {
  readonly #pool: PoolCore;
  readonly #stallMs: number;

  constructor(o: ForwarderOptions) {
    this.#stallMs = o.sendTimeoutMs;
    this.#pool = new Pool(o.upstream, {
      connections: o.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: { timeout: 5_000 },
    });
  }

  forward(r: ForwardRequest, events: ForwardEvents): void {
    const { res } = r;
    // Gone while vestibule was still deciding (a store read, a refresh): the app is not asked at all.
    if (res.destroyed) {
      events.onClientGone?.('waiting');
      return;
    }
    // Pipelined behind an answer still going out on the same connection (Node gives a queued response its
    // socket only when the one before is done). Sent to the app only then, as nginx reads one request at a time:
    // else one connection that never reads, carrying N requests, would hold N connections to the app.
    if (res.socket === null) {
      const send = (): void => {
        res.off('close', gone);
        this.#dispatch(r, events);
      };
      const gone = (): void => {
        res.off('socket', send);
        events.onClientGone?.('waiting');
      };
      res.once('socket', send);
      res.once('close', gone);
      return;
    }
    this.#dispatch(r, events);
  }

  #dispatch(r: ForwardRequest, events: ForwardEvents): void {
    const { raw, res } = r;
    this.#pool.dispatch(
      { method: r.method, path: r.url, headers: r.headers, body: announcesBody(raw.headers) ? raw : null },
      new ResponseWriter(res, r.setCookies, events, r.claimsChallenge, this.#stallMs),
    );
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** undici's handler for one request: copies the app's response onto the client's, with back-pressure. */
class ResponseWriter implements Dispatcher.DispatchHandler {
  #abort: ((err?: Error) => void) | undefined;
  #started = false;
  #done = false;
  readonly #res: ServerResponse;
  readonly #setCookies: readonly string[] | undefined;
  readonly #events: ForwardEvents;
  readonly #challenge: ClaimsChallengeTarget | undefined;
  readonly #stallMs: number;
  /** The app's answer was passed on whole (what the client has not taken yet is Node's to deliver). */
  #completed = false;
  #reportedGone = false;
  /** Set while paused for the client: stops the watch on its reading. */
  #unwatch: (() => void) | undefined;

  constructor(
    res: ServerResponse,
    setCookies: readonly string[] | undefined,
    events: ForwardEvents,
    challenge: ClaimsChallengeTarget | undefined,
    stallMs: number,
  ) {
    this.#res = res;
    this.#setCookies = setCookies;
    this.#events = events;
    this.#challenge = challenge;
    this.#stallMs = stallMs;
    // The browser went away: stop the app's side too rather than reading a body nobody will get. Before undici
    // has handed over its abort (the request still waits in the pool for a connection) it is stopped on arrival.
    res.once('close', () => {
      this.#stopWatching();
      if (!this.#done) {
        this.#done = true;
        this.#abort?.(CLIENT_GONE);
        this.#gone(this.#started ? 'reading' : 'waiting');
      } else if (this.#completed && !res.writableFinished) {
        // The app had finished, the client left before taking the tail: no 'finish', so nothing else records it.
        this.#gone('reading');
      }
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    // Gone already: sent anyway, its answer would be paused for nobody and hold the connection to the app for good.
    if (this.#done && !this.#started) abort(CLIENT_GONE);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim answers (103 Early Hints) are not passed on; the final answer follows.
    if (statusCode < 200) return true;
    // Only a 401 is read further (one comparison for every other answer): a claims challenge to the session's token.
    if (statusCode === 401 && this.#challenge !== undefined && this.#claimsChallenge(rawHeaders)) return false;
    this.#started = true;
    this.#events.onResponse(statusCode);
    const res = this.#res;
    if (res.destroyed) {
      this.#done = true;
      this.#abort?.(CLIENT_GONE);
      return false;
    }
    const headers = responseHeaders(rawHeaders, this.#setCookies);
    try {
      res.writeHead(statusCode, headers);
    } catch {
      // An app header Node refuses to send (invalid characters): a broken answer, not a crash.
      res.writeHead(502, ['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store']);
      res.end('The application sent an invalid response header.\n');
      this.#done = true;
      this.#abort?.(new Error('invalid upstream response header'));
      return false;
    }
    res.on('drain', () => {
      this.#stopWatching();
      resume();
    });
    return true;
  }

  /**
   * Answers the app's claims challenge with a fresh login (nothing of the app's answer is passed on) and drops
   * the app's answer; false when the 401 is not a usable challenge and goes to the client as it is.
   */
  #claimsChallenge(rawHeaders: Buffer[]): boolean {
    const challenge = this.#challenge;
    const read = readClaimsChallenge(rawHeaders);
    if (challenge === undefined || read === undefined) return false;
    if ('problem' in read) {
      challenge.reply.request.log.warn({ problem: read.problem }, 'the app sent a claims challenge that is not used');
      return false;
    }
    this.#done = true;
    this.#abort?.(new Error('the app answered a claims challenge; vestibule answers the client'));
    void answerClaimsChallenge(challenge, read.claims).catch((err: unknown) => {
      challenge.reply.request.log.error({ err }, 'answering a claims challenge failed');
      if (!this.#res.headersSent) this.#res.writeHead(502).end();
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#res.write(chunk)) return true;
    // Paused until the client reads, and undici does not time a paused answer: without this a client that stops
    // reading would hold its connection to the app for good (and enough of them, the whole pool).
    this.#watch();
    return false;
  }

  /** Cuts the client's connection once it has taken none of what waits for it for the send timeout. */
  #watch(): void {
    const socket = this.#res.req.socket;
    this.#unwatch ??= watchForStall(socket, this.#stallMs, () => {
      this.#unwatch = undefined;
      if (!this.#done) {
        this.#done = true;
        this.#abort?.(CLIENT_STALLED);
      }
      this.#gone('stalled');
      socket.destroy();
    });
  }

  /** Tells the caller, once, that the client left or was cut before its answer was out. */
  #gone(phase: ClientGonePhase): void {
    if (this.#reportedGone) return;
    this.#reportedGone = true;
    this.#events.onClientGone?.(phase);
  }

  #stopWatching(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  onComplete(): void {
    this.#done = true;
    this.#completed = true;
    this.#res.end();
    // The app's connection is free again, but Node has no send timeout of its own: a client that never takes the
    // tail of the answer would hold its connection (and the answer's buffers) for good. Watched until the answer
    // is out ('close' stops it); an answer the kernel took whole, nearly every one, arms nothing.
    if (this.#res.req.socket.writableLength > 0) this.#watch();
    else this.#stopWatching();
  }

  onError(err: Error): void {
    this.#stopWatching();
    if (this.#done) return;
    this.#done = true;
    if (!this.#started) {
      const code = (err as { code?: string }).code;
      this.#events.onFailure(code !== undefined && TIMEOUT_CODES.has(code) ? 'timeout' : 'unreachable', err);
      return;
    }
    // Headers are out already: all that is left is to cut the connection so the client sees a broken body.
    this.#events.onBroken?.();
    this.#res.destroy(err);
  }

  onUpgrade(): void {
    // Upgrades go through the tunnel (tunnel.ts), never through the pool.
  }
}

/**
 * The app's response headers as a flat [name, value, …] list for writeHead: hop-by-hop ones and those its
 * Connection header names dropped, original spelling and order kept, our Set-Cookie values appended (and then
 * the answer kept out of shared caches, see {@link privateAnswer}).
 */
export function responseHeaders(raw: readonly (Buffer | string)[], setCookies?: readonly string[]): string[] {
  const out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = latin1(raw[i]);
    const value = latin1(raw[i + 1]);
    const lower = name.toLowerCase();
    if (lower === 'connection') listed = connectionListed(value);
    if (isHopByHop(lower)) continue;
    out.push(name, value);
  }
  // Rare: only when the app's Connection header names headers of its own.
  if (listed !== undefined) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has(out[i]?.toLowerCase() ?? '')) out.splice(i, 2);
  }
  if (!setCookies || setCookies.length === 0) return out;
  for (const c of setCookies) out.push('set-cookie', c);
  return privateAnswer(out);
}
