import { retryAfterMs } from '../oidc/provider.js';
import type { GroupsFact } from './token-facts.js';

/** Microsoft Graph's resource for an app token (client credentials, `GroupMember.Read.All`). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** `checkMemberGroups` takes at most 20 group ids per call. */
const CHUNK = 20;
/** A 429 without Retry-After holds lookups off this long; a Retry-After is honoured up to {@link MAX_HOLD_MS}. */
const DEFAULT_HOLD_MS = 10_000;
const MAX_HOLD_MS = 300_000;
/** Longest answer read: checkMemberGroups for 20 ids is under 1 KiB; a bigger one is a broken or hostile Graph. */
const MAX_ANSWER_BYTES = 64 * 1024;

export type GraphLookupOutcome = 'ok' | 'error';

export interface GroupsResolverDeps {
  /** VESTIBULE_GRAPH_URL, without a trailing slash. */
  readonly graphUrl: string;
  /** Every group id any rule names: the only ones asked about, so the answer (and the cache) stays small. */
  readonly wanted: readonly string[];
  /** An app token for Graph (client credentials for {@link GRAPH_SCOPE}). */
  readonly appToken: () => Promise<{ readonly accessToken: string; readonly expiresIn: number }>;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  /** How long an answer is kept, never past the session's end or the token's expiry (VESTIBULE_GROUPS_CACHE_TTL). */
  readonly ttlMs: number;
  /** Counts each Graph lookup (not cache hits) by outcome. */
  readonly onLookup: (outcome: GraphLookupOutcome) => void;
  readonly maxEntries?: number;
  readonly timeoutMs?: number;
}

/** Whose groups, and for how long the answer may be kept. */
export interface GroupsSubject {
  readonly oid: string;
  readonly tid: string | undefined;
  /**
   * A browser session (kept until it ends; `sessionId` tells two sessions of one user apart) or a bearer
   * caller (kept for the bearer TTL, never past the token's `exp`).
   */
  readonly scope:
    | { readonly kind: 'session'; readonly sessionId: string; readonly endsAt: number }
    | { readonly kind: 'bearer'; readonly expiresAt: number };
}

interface Entry {
  readonly ids: readonly string[];
  readonly until: number;
}

/**
 * The groups of a user whose token left them out (groups overage), from Microsoft Graph's `checkMemberGroups`
 * (asked only about the groups the rules name), with an app token. Answers are kept in a bounded in-process
 * map (oldest out first) for the TTL, never past the session's end or the token's expiry; concurrent lookups for one key share one
 * call. A failure (Graph down, slow, or an error answer) is never kept and is `unavailable`: the decision
 * then fails closed (503). A 429 (or a 503 with Retry-After) holds every lookup off until Retry-After: Graph
 * throttles the app, not the user, and each call while throttled prolongs it.
 */
export class GroupsResolver {
  readonly #d: GroupsResolverDeps;
  readonly #cache = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<GroupsFact>>();
  #token: { readonly value: string; readonly until: number } | undefined;
  #tokenInFlight: Promise<string> | undefined;
  /** Graph throttled us (429, or 503 with Retry-After): no lookup for anyone before this time (epoch ms). */
  #holdUntil = 0;

  constructor(d: GroupsResolverDeps) {
    this.#d = d;
  }

  async groupsOf(s: GroupsSubject): Promise<GroupsFact> {
    const key =
      s.scope.kind === 'session' ? `s ${s.tid ?? ''} ${s.oid} ${s.scope.sessionId}` : `b ${s.tid ?? ''} ${s.oid}`;
    const now = this.#d.now();
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      if (hit.until > now) return { kind: 'known', ids: hit.ids, from: 'graph' };
      this.#cache.delete(key);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const lookup = this.#lookup(s.oid).then((fact) => {
      if (fact.kind === 'known') {
        // A membership Graph no longer confirms stops counting within the TTL, for sessions as for bearer callers
        // (a session's own token is re-read at each refresh; the looked-up answer must not outlive that by hours).
        const until = Math.min(now + this.#d.ttlMs, s.scope.kind === 'session' ? s.scope.endsAt : s.scope.expiresAt);
        this.#remember(key, { ids: fact.ids, until });
      }
      return fact;
    });
    this.#inFlight.set(key, lookup);
    try {
      return await lookup;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** Cached answers (for tests and the size bound). */
  get size(): number {
    return this.#cache.size;
  }

  #remember(key: string, entry: Entry): void {
    const max = this.#d.maxEntries ?? 10_000;
    this.#cache.delete(key);
    while (this.#cache.size >= max) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, entry);
  }

  async #lookup(oid: string): Promise<GroupsFact> {
    // Throttled: asking again would only extend it (Graph throttles per app and tenant, not per user).
    if (this.#holdUntil > this.#d.now()) {
      this.#d.onLookup('error');
      const seconds = Math.ceil((this.#holdUntil - this.#d.now()) / 1000);
      return { kind: 'unavailable', reason: `Microsoft Graph is throttling; not asked again for ${seconds} s` };
    }
    try {
      const token = await this.#appToken();
      // One deadline for the whole lookup: the chunks share it, so a slow Graph holds a request 5 s, not 5 s a chunk.
      const signal = AbortSignal.timeout(this.#d.timeoutMs ?? 5_000);
      const member: string[] = [];
      for (let i = 0; i < this.#d.wanted.length; i += CHUNK) {
        member.push(...(await this.#check(token, oid, this.#d.wanted.slice(i, i + CHUNK), signal)));
      }
      this.#d.onLookup('ok');
      return { kind: 'known', ids: member, from: 'graph' };
    } catch (err) {
      this.#d.onLookup('error');
      return { kind: 'unavailable', reason: `Microsoft Graph lookup failed: ${(err as Error).message}` };
    }
  }

  async #check(token: string, oid: string, groupIds: readonly string[], signal: AbortSignal): Promise<string[]> {
    const url = `${this.#d.graphUrl}/v1.0/users/${encodeURIComponent(oid)}/checkMemberGroups`;
    const res = await this.#d.fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ groupIds }),
      signal,
      // The app token goes to Graph only: a redirect is an error answer, not followed.
      redirect: 'manual',
    });
    if (!res.ok) {
      this.#holdOff(res);
      await res.body?.cancel();
      throw new Error(`checkMemberGroups answered ${res.status}`);
    }
    const body = JSON.parse(await boundedText(res)) as { value?: unknown };
    if (!Array.isArray(body.value)) throw new Error('checkMemberGroups answered without a value array');
    // Only ids that were asked about count: an answer can never add a group the rules do not name.
    return body.value.filter((id): id is string => typeof id === 'string' && groupIds.includes(id));
  }

  /** A 429 (or a 503 with Retry-After) holds every lookup off for Retry-After (seconds or an HTTP date), capped. */
  #holdOff(res: Response): void {
    if (res.status !== 429 && !(res.status === 503 && res.headers.has('retry-after'))) return;
    const now = this.#d.now();
    const ms = retryAfterMs(res) ?? DEFAULT_HOLD_MS;
    this.#holdUntil = Math.max(this.#holdUntil, now + Math.min(Math.max(ms, 1000), MAX_HOLD_MS));
  }

  async #appToken(): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && cached.until > this.#d.now()) return cached.value;
    this.#tokenInFlight ??= this.#d
      .appToken()
      .then((t) => {
        // Renewed a minute early, as Entra's tokens live 60–90 minutes.
        this.#token = { value: t.accessToken, until: this.#d.now() + Math.max(0, t.expiresIn - 60) * 1000 };
        return t.accessToken;
      })
      .finally(() => {
        this.#tokenInFlight = undefined;
      });
    return this.#tokenInFlight;
  }
}

/** The answer's text, refused (and its body cancelled) once it passes {@link MAX_ANSWER_BYTES}. */
async function boundedText(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`checkMemberGroups answered more than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
