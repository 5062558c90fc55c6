import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuTicks, parseResident, processTree, sampleUsage, treeResident } from './proc-stats.js';

describe('/proc parsing', () => {
  it('reads utime+stime even when the command name has spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 11 0 100 0 0';
    assert.equal(parseCpuTicks(stat), 175);
  });

  it('reads VmRSS and its file-backed part in bytes, 0 when absent', () => {
    assert.deepEqual(parseResident('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n'), { rss: 51200 * 1024, file: 0 });
    const status = 'VmRSS:\t   85000 kB\nRssAnon:\t   40000 kB\nRssFile:\t   44000 kB\nRssShmem:\t    1000 kB\n';
    assert.deepEqual(parseResident(status), { rss: 85000 * 1024, file: 44000 * 1024 });
    assert.deepEqual(parseResident('Name:\tzombie\n'), { rss: 0, file: 0 });
  });

  it('sums RSS and its file-backed part over a tree; node maps its own binary, so some of it is file-backed', () => {
    const one = treeResident([process.pid]);
    assert.ok(one.file > 1024 * 1024, `file-backed ${one.file}`);
    assert.ok(one.file < one.rss, `${one.file} < ${one.rss}`);
    const twice = treeResident([process.pid, process.pid]);
    assert.ok(twice.rss > one.rss && twice.file > one.file);
  });

  it('samples this very process: some memory, a process tree that starts with it', () => {
    assert.equal(processTree(process.pid)[0], process.pid);
    const usage = sampleUsage(process.pid).stop();
    assert.ok(usage.idleRss > 1024 * 1024);
    assert.ok(usage.peakRss >= usage.idleRss);
  });
});
