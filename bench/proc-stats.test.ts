import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuTicks, parseRssBytes, processTree, sampleUsage } from './proc-stats.js';

describe('/proc parsing', () => {
  it('reads utime+stime even when the command name has spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 11 0 100 0 0';
    assert.equal(parseCpuTicks(stat), 175);
  });

  it('reads VmRSS in bytes, 0 when absent', () => {
    assert.equal(parseRssBytes('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n'), 51200 * 1024);
    assert.equal(parseRssBytes('Name:\tzombie\n'), 0);
  });

  it('samples this very process: some memory, a process tree that starts with it', () => {
    assert.equal(processTree(process.pid)[0], process.pid);
    const usage = sampleUsage(process.pid).stop();
    assert.ok(usage.idleRss > 1024 * 1024);
    assert.ok(usage.peakRss >= usage.idleRss);
  });
});
