import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packageOf, summarizeProfile, type CpuProfile } from './profile.js';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

// root → handler (src) → load (src) → get (ioredis); handler → LOG (pino)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2] },
    { id: 2, callFrame: frame('handler', 'file:///r/build/src/proxy/plugin.js', 9), children: [3, 5] },
    { id: 3, callFrame: frame('load', 'file:///r/build/src/session/sessions.js', 31), children: [4] },
    { id: 4, callFrame: frame('get', 'file:///r/node_modules/ioredis/built/Redis.js', 99) },
    { id: 5, callFrame: frame('LOG', 'file:///r/node_modules/pino/lib/tools.js', 46) },
  ],
  samples: [4, 4, 3, 5, 2],
  timeDeltas: [1000, 1000, 1000, 500, 500],
};

describe('summarizeProfile', () => {
  const s = summarizeProfile(profile);

  it('ranks functions by self time', () => {
    assert.equal(s.totalMs, 4);
    assert.deepEqual(s.bySelf[0], { name: 'get (ioredis/built/Redis.js:100)', ms: 2, pct: 50 });
    assert.equal(s.bySelf[1]?.name, 'load (src/session/sessions.js:32)');
  });

  it('sums self time by package and by vestibule file', () => {
    assert.deepEqual(
      s.byPackage.map((e) => [e.name, e.ms]),
      [
        ['ioredis', 2],
        ['src/session/sessions.js', 1],
        ['pino', 0.5],
        ['src/proxy/plugin.js', 0.5],
      ],
    );
  });

  it("gives vestibule's own functions the time of everything they call", () => {
    assert.deepEqual(
      s.ownInclusive.map((e) => [e.name, e.ms]),
      [
        ['handler (src/proxy/plugin.js:10)', 4],
        ['load (src/session/sessions.js:32)', 3],
      ],
    );
  });

  it('names scoped packages with their scope', () => {
    assert.equal(packageOf(frame('x', 'file:///r/node_modules/@fastify/reply-from/index.js')), '@fastify/reply-from');
    assert.equal(packageOf(frame('x', 'node:internal/streams/writable')), 'node (internal)');
    assert.equal(packageOf(frame('(garbage collector)', '')), '(garbage collector)');
  });
});
