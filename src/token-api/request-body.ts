import type { FastifyInstance } from 'fastify';
import { invalidRequest, TokenApiError } from './api-error.js';

const MEDIA_TYPES = '`application/json`, `application/x-www-form-urlencoded`';

/** A parsed request body: JSON members or form fields, read field by field with Texas' rules. */
export class RequestBody {
  readonly #fields: ReadonlyMap<string, unknown>;
  readonly #form: boolean;

  constructor(fields: ReadonlyMap<string, unknown>, form: boolean) {
    this.#fields = fields;
    this.#form = form;
  }

  /** A required non-empty string field; 400 `invalid_request` naming the field otherwise. */
  requiredString(name: string): string {
    const value = this.#fields.get(name);
    if (value === undefined || value === null || value === '') throw invalidRequest(`missing required field '${name}'`);
    if (typeof value !== 'string') throw invalidRequest(`field '${name}' must be a string`);
    return value;
  }

  /** An optional string field: absent or null is undefined; any other non-string is 400 naming the field. */
  optionalString(name: string): string | undefined {
    const value = this.#fields.get(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalidRequest(`field '${name}' must be a string`);
    return value;
  }

  /**
   * Texas' `authorization_details` (RFC 9396): a JSON array of objects, given as an array in a JSON body or as
   * its JSON text (a form field, or a string in JSON). Returned as canonical JSON text; absent or null is
   * undefined; any other shape is 400 naming the field, as Texas refuses it while deserializing.
   */
  optionalAuthorizationDetails(name: string): string | undefined {
    let value = this.#fields.get(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        throw invalidRequest(`failed to parse ${name} JSON string: not valid JSON`);
      }
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      throw invalidRequest(`field '${name}' must be a JSON array of objects`);
    }
    return canonicalJson(value);
  }

  /** An optional boolean: JSON `true`/`false`, form `"true"`/`"false"`; absent or null is false. */
  optionalBoolean(name: string): boolean {
    const value = this.#fields.get(name);
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean' && !this.#form) return value;
    if (value === 'true' && this.#form) return true;
    if (value === 'false' && this.#form) return false;
    throw invalidRequest(`field '${name}' must be true or false`);
  }
}

/** Deepest `authorization_details` nesting read: a hostile body of thousands of nested arrays is a 400, not a 500. */
const MAX_JSON_DEPTH = 32;

/**
 * JSON text with object members in code-unit order at every depth, so two spellings of the same
 * `authorization_details` share one cache entry instead of costing a second call to the identity provider.
 */
function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_JSON_DEPTH)
    throw invalidRequest(`authorization_details is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], depth + 1)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The body of a request when it had none (no `Content-Type`, so nothing was parsed). */
export function requestBody(body: unknown): RequestBody {
  if (body instanceof RequestBody) return body;
  throw unsupportedMediaType(undefined);
}

/** Texas' wording for a media type it does not read (the type is echoed, shortened). */
export function unsupportedMediaType(contentType: string | undefined): TokenApiError {
  const given = contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType.slice(0, 100));
  return invalidRequest(`unsupported media type: ${given}: expected one of ${MEDIA_TYPES}`);
}

/** Parses a JSON object body; members are read only as own properties, so `__proto__` is just a name. */
export function parseJsonBody(text: string): RequestBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('the JSON body must be an object');
  }
  return new RequestBody(new Map(Object.entries(value)), false);
}

/** Parses an `application/x-www-form-urlencoded` body; a repeated field is refused rather than guessed at. */
export function parseFormBody(text: string): RequestBody {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (fields.has(name)) throw invalidRequest(`duplicate field '${name}'`);
    fields.set(name, value);
  }
  return new RequestBody(fields, true);
}

/**
 * Makes `app` read exactly the two media types Texas reads (parameters such as `charset` allowed); every other
 * type is left without a parser, so Fastify rejects it and the error handler answers with
 * {@link unsupportedMediaType}.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(String(text)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseFormBody(String(text)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
