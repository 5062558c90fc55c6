/**
 * The mock's HTTP edge: requests are read whole into a {@link MockRequest}, handlers return a {@link Reply},
 * and only this module touches node:http objects. That keeps handlers free of streams and lets the server log
 * every reply's status.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { EntraError } from './errors.js';
import type { GrantType } from './types.js';

/** A fully read request. */
export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a handler answers; `grant` only feeds the request log. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  grant?: GrantType;
  /** The names (never the values) of a token request's form parameters, for the request log. */
  fields?: readonly string[];
}

/** Form or query parameters after the duplicate check; `get` gives undefined for absent values. */
export type Params = ReadonlyMap<string, string>;

const BODY_LIMIT = 1_000_000;

/** Reads the request into memory (bounded; the mock only ever sees small forms). */
export async function readRequest(req: IncomingMessage): Promise<MockRequest> {
  const url = new URL(req.url ?? '/', 'http://mock.invalid');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/**
 * Turns URL-encoded pairs into {@link Params}. RFC 6749 §3.2 forbids repeated parameters and Entra rejects them
 * (AADSTS9000411), so a duplicate is an error rather than "last one wins".
 */
export function uniqueParams(search: URLSearchParams): Params {
  const out = new Map<string, string>();
  for (const [key, value] of search) {
    if (out.has(key)) {
      throw new EntraError(
        'invalid_request',
        9000411,
        `The request is not properly formatted. The parameter '${key}' is duplicated.`,
      );
    }
    out.set(key, value);
  }
  return out;
}

/** The body of a form POST; any other content type yields no parameters (Entra then reports what is missing). */
export function formParams(req: MockRequest): Params {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new Map();
  return uniqueParams(new URLSearchParams(req.body));
}

/** A JSON reply; token responses must not be cached (RFC 6749 §5.1). */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function htmlReply(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body };
}

export function textReply(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

export function redirectReply(location: string): Reply {
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

/** Writes a reply to the socket. */
export function writeReply(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}
