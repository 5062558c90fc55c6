/**
 * `npm run bench:miss` must keep running and keep measuring misses: every stage reports a CPU time, and the
 * whole-read stage leaves nothing in the in-process cache (else it would be timing cache hits). Figures are
 * never asserted: the machine is shared and noisy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureMissPath, renderMissPath } from '../../bench/miss-path.js';

describe('bench: the cache-miss path', () => {
  it('times every stage of a session read that misses the cache', async () => {
    const o = { sessions: 400, reads: 640, rounds: 1 };
    const result = await measureMissPath(o);
    assert.deepEqual(
      result.stages.map((s) => s.stage),
      [
        "cookie: the ticket's MAC and its store id",
        'Redis GET of the record (ioredis)',
        'the same GET timed for the store metrics',
        'decryption: key derivation (HKDF) and AES-256-GCM',
        'record parse (JSON) and shape check',
        'the whole read, as vestibule does it (Sessions.load)',
      ],
    );
    for (const s of result.stages) assert.ok(Number.isFinite(s.cpuMicros) && s.cpuMicros > 0, s.stage);
    assert.equal(result.cachedAfter, 0, 'the whole-read stage read sessions from the cache');
    const text = renderMissPath(result, o);
    assert.match(text, /the whole read, as vestibule does it \(Sessions\.load\) +[\d.]+ µs/);
  });
});
