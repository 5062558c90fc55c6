import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clock, Progress } from './progress.js';

function sink(isTTY: boolean): { isTTY: boolean; text: string; write(c: string): void } {
  return {
    isTTY,
    text: '',
    write(c: string) {
      this.text += c;
    },
  };
}

describe('Progress', () => {
  it('formats elapsed and remaining time', () => {
    assert.equal(clock(0), '0:00');
    assert.equal(clock(75.4), '1:15');
    assert.equal(clock(3725), '1:02:05');
  });

  it('in a terminal rewrites one line and prints messages above it', () => {
    let t = 0;
    const out = sink(true);
    const p = new Progress(100, out, () => t);
    p.step('round 1/3, 16 connections: (d) vestibule', 10);
    t = 20_000; // took twice the plan
    p.step('round 1/3, 16 connections: (g) vestibule', 10);
    assert.ok(
      out.text.startsWith('\r\x1b[2Kbench: [0:00 elapsed, ~1:40 left] round 1/3, 16 connections: (d) vestibule'),
    );
    // 90 s planned left, at twice the pace: 3:00.
    assert.ok(out.text.endsWith('\r\x1b[2Kbench: [0:20 elapsed, ~3:00 left] round 1/3, 16 connections: (g) vestibule'));
    assert.ok(!out.text.includes('\n'), 'no new lines for progress in a terminal');
    p.log('a message');
    assert.ok(
      out.text.endsWith(
        '\r\x1b[2Kbench: a message\nbench: [0:20 elapsed, ~3:00 left] round 1/3, 16 connections: (g) vestibule',
      ),
    );
    p.end();
    assert.ok(out.text.endsWith('\r\x1b[2K'));
  });

  it('elsewhere prints plain lines, one per step', () => {
    let t = 0;
    const out = sink(false);
    const p = new Progress(30, out, () => t);
    p.step('warm-up (b)', 10);
    t = 5000;
    p.step('warm-up (d)', 10);
    p.log('note');
    p.end();
    assert.equal(
      out.text,
      'bench: [0:00 elapsed, ~0:30 left] warm-up (b)\n' +
        'bench: [0:05 elapsed, ~0:20 left] warm-up (d)\n' +
        'bench: note\n',
    );
    assert.ok(!out.text.includes('\r') && !out.text.includes('\x1b'));
  });
});
