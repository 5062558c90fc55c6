import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { AccessLog } from './access-log.js';
import { createLoggers } from './logger.js';
import { lazyChildLoggers } from './lazy-child.js';

function sink(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

const entry = {
  reqId: 'abc-1',
  method: 'GET',
  route: 'proxy',
  status: 200,
  durationMs: 1.5,
  session: true,
  traceId: '0af7651916cd43dd8448eb211c80319c',
} as const;

describe('AccessLog', () => {
  it('writes one JSON line with the same keys, in the same order, as pino writes for the same object', () => {
    const own = sink();
    new AccessLog(own).write(entry);
    const viaPino = sink();
    createLoggers({ level: 'info', destination: viaPino }).log.info(entry, 'request');
    const a = JSON.parse(own.lines[0] ?? '') as Record<string, unknown>;
    const b = JSON.parse(viaPino.lines[0] ?? '') as Record<string, unknown>;
    assert.deepEqual(Object.keys(a), Object.keys(b));
    assert.deepEqual({ ...a, time: 0 }, { ...b, time: 0 });
    assert.ok(Number.isFinite(Date.parse(String(a.time))));
    assert.ok(own.lines[0]?.endsWith('}\n'));
  });
  it('leaves out session when the request had no proxy decision', () => {
    const own = sink();
    new AccessLog(own).write({ ...entry, session: undefined, route: 'login', status: 302 });
    const a = JSON.parse(own.lines[0] ?? '') as Record<string, unknown>;
    assert.equal('session' in a, false);
    assert.equal(a.status, 302);
  });
  it('is off above info', () => {
    assert.equal(createLoggers({ level: 'warn', destination: sink() }).access, undefined);
    assert.ok(createLoggers({ level: 'debug', destination: sink() }).access);
  });
});

describe('lazyChildLoggers', () => {
  it('makes no child until a line is logged, then logs with the bindings through one child', () => {
    const out = sink();
    const parent = pino({ level: 'info' }, out);
    let made = 0;
    const counting = Object.assign(Object.create(parent) as typeof parent, {
      child: (...args: Parameters<typeof parent.child>) => {
        made++;
        return parent.child(...args);
      },
    });
    const log = lazyChildLoggers.call(undefined as never, counting, { reqId: 'r-7' }, {}, undefined as never);
    assert.equal(made, 0);
    assert.equal(log.level, 'info');
    log.info({ a: 1 }, 'first');
    log.warn('second');
    assert.equal(made, 1);
    const lines = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.reqId, l.msg]),
      [
        ['r-7', 'first'],
        ['r-7', 'second'],
      ],
    );
  });
});
