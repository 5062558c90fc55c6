/**
 * `npm run bench:miss`: what one session read that misses the in-process cache costs vestibule, stage by stage —
 * the work target (g) does on every request. Seeds sessions with vestibule's own `Sessions` class in a private
 * redis-server, then reads them in turn (no session twice in a row, as in (g)) with 64 reads in flight, and
 * reports the CPU time per read of each stage alone and of the whole read as vestibule composes it (metrics on
 * the store, the in-process cache in front). CPU time, not wall time, and the best of several rounds: the
 * stages are a few microseconds each and the machine is shared. Prints only; docs/benchmarks.md quotes a run.
 *
 *   --sessions N   sessions seeded and read in turn (default 10000)
 *   --reads N      reads per round (default 64000)
 *   --rounds N     rounds per stage; the best is shown (default 6)
 *
 * Run it as `node --import tsx` (the npm script does): under the `tsx` command itself, node:crypto's HKDF
 * measured three times slower on Node 24.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { open } from '../src/crypto/aead.js';
import { Keyring } from '../src/crypto/keyring.js';
import { Metrics } from '../src/observability/metrics.js';
import { createStore } from '../src/session/create-store.js';
import { storeKeys } from '../src/session/keys.js';
import { decodeRecord } from '../src/session/record.js';
import { SessionCache } from '../src/session/session-cache.js';
import { Sessions } from '../src/session/sessions.js';
import { instrumentStore } from '../src/session/store-instrumented.js';
import type { SessionStore } from '../src/session/store.js';
import { readTicket, type Ticket } from '../src/session/ticket.js';
import { freePort } from '../test/support/free-port.js';
import { stopAll, type Service } from './processes.js';
import { startBenchRedis } from './redis.js';
import { seedSessions } from './seed-sessions.js';

const IN_FLIGHT = 64;

export interface MissPathOptions {
  readonly sessions: number;
  readonly reads: number;
  readonly rounds: number;
}

export interface StageResult {
  readonly stage: string;
  /** Best round's CPU time (user + system) per read, in microseconds. */
  readonly cpuMicros: number;
}

/**
 * CPU µs per call of `f` over the read indices 0, 1, 2, … (mod `n`), `IN_FLIGHT` calls in flight; the best of
 * `rounds` rounds after one round that is thrown away (the JIT's warm-up).
 */
export async function cpuPerCall(f: (i: number) => unknown, n: number, reads: number, rounds: number): Promise<number> {
  let next = 0;
  const perWorker = Math.max(1, Math.floor(reads / IN_FLIGHT));
  // A synchronous stage is not awaited: a microtask per call would be counted as its cost.
  const worker = async (): Promise<void> => {
    for (let k = 0; k < perWorker; k++) {
      const out = f(next++ % n);
      if (out instanceof Promise) await out;
    }
  };
  let best = Infinity;
  for (let round = 0; round <= rounds; round++) {
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const used = process.cpuUsage(before);
    if (round > 0) best = Math.min(best, (used.user + used.system) / (perWorker * IN_FLIGHT));
  }
  return best;
}

export interface MissPathResult {
  readonly stages: readonly StageResult[];
  /** Sessions the in-process cache held after the whole-read stage: 0, or the stage measured hits, not misses. */
  readonly cachedAfter: number;
}

export async function measureMissPath(o: MissPathOptions): Promise<MissPathResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'vestibule-miss-'));
  const services: Service[] = [];
  const stores: SessionStore[] = [];
  try {
    const redis = await startBenchRedis(await freePort(), tmp, (s) => {
      services.push(s);
      return s;
    });
    const encryptionKey = Buffer.alloc(32, 5);
    const seeded = await seedSessions({
      redisUrl: redis.url(0),
      clientId: 'bench',
      encryptionKey,
      count: o.sessions,
      keepCookies: o.sessions,
    });
    const ring = new Keyring(encryptionKey);
    const keys = storeKeys('vestibule:bench');
    const cookies = seeded.cookieValues;
    const tickets = cookies.map((c) => readTicket(ring, c)).filter((t): t is Ticket => t !== null);
    if (tickets.length !== cookies.length) throw new Error('a seeded cookie did not verify');
    const raw = await createStore({ kind: 'redis', url: redis.url(0) });
    stores.push(raw);
    // Each session's ticket, store key, sealed record and plaintext, read once before anything is timed.
    const seededRecords = await Promise.all(
      tickets.map(async (ticket) => {
        const key = keys.record(ticket.id);
        const sealed = await raw.get(key);
        const opened = sealed && open(ring, 'session-record', sealed, key, ticket.raw);
        if (!opened) throw new Error('a seeded record did not open');
        return { ticket, key, sealed, plaintext: opened.plaintext };
      }),
    );
    const metered = instrumentStore(raw, new Metrics());
    const now = Date.now;
    const n = tickets.length;
    // As start.ts composes them: the store with its metrics, the in-process cache in front (at most 2 000
    // entries, as in production; fewer when fewer sessions are seeded, so that reading them in turn still misses).
    const cache = new SessionCache({ now, maxEntries: Math.min(2000, Math.floor(n / 4)) });
    const sessions = new Sessions({ store: metered, keyring: ring, keys, now, cache });
    const at = <T>(list: readonly T[], i: number): T => list[i] as T;
    const stages: [string, (i: number) => unknown][] = [
      ["cookie: the ticket's MAC and its store id", (i) => readTicket(ring, at(cookies, i))],
      ['Redis GET of the record (ioredis)', (i) => raw.get(at(seededRecords, i).key)],
      ['the same GET timed for the store metrics', (i) => metered.get(at(seededRecords, i).key)],
      [
        'decryption: key derivation (HKDF) and AES-256-GCM',
        (i) => {
          const r = at(seededRecords, i);
          return open(ring, 'session-record', r.sealed, r.key, r.ticket.raw);
        },
      ],
      ['record parse (JSON) and shape check', (i) => decodeRecord(at(seededRecords, i).plaintext)],
      ['the whole read, as vestibule does it (Sessions.load)', (i) => sessions.load(at(cookies, i))],
    ];
    const results: StageResult[] = [];
    for (const [stage, f] of stages) {
      results.push({ stage, cpuMicros: await cpuPerCall(f, n, o.reads, o.rounds) });
    }
    return { stages: results, cachedAfter: cache.size };
  } finally {
    for (const s of stores) await s.close();
    await stopAll(services);
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function renderMissPath(result: MissPathResult, o: MissPathOptions): string {
  const results = result.stages;
  const width = Math.max(...results.map((r) => r.stage.length));
  const lines = results.map((r) => `${r.stage.padEnd(width)}  ${r.cpuMicros.toFixed(1).padStart(6)} µs`);
  return [
    `CPU per session read that misses the cache (${o.sessions} sessions read in turn, ${IN_FLIGHT} in flight, ` +
      `best of ${o.rounds} rounds of ${o.reads} reads; node ${process.version})`,
    ...lines,
    `sessions in the in-process cache afterwards: ${result.cachedAfter} (0: every read missed it, as in target (g))`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sessions: { type: 'string' }, reads: { type: 'string' }, rounds: { type: 'string' } },
  });
  const positive = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, not ${raw}`);
    return v;
  };
  const o: MissPathOptions = {
    sessions: positive('sessions', values.sessions, 10_000),
    reads: positive('reads', values.reads, 64_000),
    rounds: positive('rounds', values.rounds, 6),
  };
  const result = await measureMissPath(o);
  process.stdout.write(`${renderMissPath(result, o)}\n`);
  if (result.cachedAfter !== 0)
    throw new Error('the whole-read stage was served from the cache: its figure is not a miss');
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:miss: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
