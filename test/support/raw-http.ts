import { connect, type Socket } from 'node:net';

/** What a server answered on one raw TCP connection. */
export interface RawResponse {
  /** Everything received, as latin1 text (bytes preserved one to one). */
  readonly raw: string;
  /** Status code of the first response, or undefined when none arrived (connection closed or timed out). */
  readonly status: number | undefined;
  /** Header fields of the first response, names lower-cased, repeated fields joined with ', '. */
  readonly headers: ReadonlyMap<string, string>;
  /** The same fields line by line, in order (Set-Cookie lines cannot be joined with ', '). */
  readonly fields: readonly (readonly [name: string, value: string])[];
  /** Body of the first response (de-chunked when chunked). */
  readonly body: string;
  /** How the exchange ended: a complete response, the server closing, a reset, or our own deadline. */
  readonly ended: 'complete' | 'closed' | 'reset' | 'timeout';
}

interface Head {
  status: number;
  headers: Map<string, string>;
  fields: [string, string][];
  bodyStart: number;
}

function parseHead(text: string): Head | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map<string, string>();
  const fields: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.push([name, value]);
    const prior = headers.get(name);
    headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
  }
  return { status, headers, fields, bodyStart: end + 4 };
}

/** The body of a complete response, or undefined while more bytes are due. */
function completeBody(text: string, head: Head, method: string): string | undefined {
  const rest = text.slice(head.bodyStart);
  if (method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return '';
  const length = head.headers.get('content-length');
  if (length !== undefined) return rest.length >= Number(length) ? rest.slice(0, Number(length)) : undefined;
  if (head.headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) return dechunk(rest);
  return undefined; // delimited by close
}

function dechunk(text: string): string | undefined {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const size = parseInt(text.slice(at, eol), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return text.includes('\r\n', eol + 2) ? out : undefined;
    if (text.length < eol + 2 + size + 2) return undefined;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends `data` as is on a fresh TCP connection and reads the first response: for malformed HTTP that no
 * well-behaved client library will produce (conflicting framing, obs-folds, raw control characters).
 * Resolves when a complete response arrived, the server closed or reset the connection, or after `timeoutMs`.
 */
export function sendRaw(
  port: number,
  data: string | Buffer,
  o: { timeoutMs?: number; method?: string; host?: string } = {},
): Promise<RawResponse> {
  const method = o.method ?? (typeof data === 'string' ? data.slice(0, data.indexOf(' ')) : 'GET');
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: o.host ?? '127.0.0.1' });
    let text = '';
    let settled = false;
    const finish = (ended: RawResponse['ended']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const head = parseHead(text);
      const body = head ? (completeBody(text, head, method) ?? text.slice(head.bodyStart)) : '';
      resolve({
        raw: text,
        status: head && Number.isInteger(head.status) ? head.status : undefined,
        headers: head?.headers ?? new Map(),
        fields: head?.fields ?? [],
        body,
        ended,
      });
    };
    const timer = setTimeout(() => finish('timeout'), o.timeoutMs ?? 5000);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const head = parseHead(text);
      if (head && completeBody(text, head, method) !== undefined) finish('complete');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('reset'));
    socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  });
}

/** A GET request line plus headers in wire format, `Connection: close` and a Host added unless given. */
export function rawGet(target: string, headers: readonly (readonly [string, string])[] = [], host = 'x'): string {
  const lines = [`GET ${target} HTTP/1.1`];
  if (!headers.some(([n]) => n.toLowerCase() === 'host')) lines.push(`Host: ${host}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (!headers.some(([n]) => n.toLowerCase() === 'connection')) lines.push('Connection: close');
  return lines.join('\r\n') + '\r\n\r\n';
}
