import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCommand, parseAutocannonOutput, parseWrkOutput, wrkScript } from './load.js';

describe('load generator output', () => {
  it('reads the line the wrk script prints, converting µs to ms and requests over the duration', () => {
    const out =
      'Running 10s test\nBENCH_JSON {"requests":50000,"durationUs":10000000,"p50":812.0,"p99":2400.5,"p999":9100.0,"connect":0,"read":1,"write":0,"status":2,"timeout":0}\n';
    assert.deepEqual(parseWrkOutput(out), {
      tool: 'wrk',
      requests: 50000,
      rps: 5000,
      p50Ms: 0.812,
      p99Ms: 2.4005,
      p999Ms: 9.1,
      errors: 3,
      errorKinds: { read: 1, status: 2 },
    });
  });

  it('fails loudly when wrk printed no result line', () => {
    assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused'), /wrk printed no result/);
  });

  it('reads autocannon --json, counting errors, timeouts and non-2xx as errors', () => {
    const json = JSON.stringify({
      requests: { average: 990, total: 2000 },
      latency: { p50: 1.5, p99: 7, p99_9: 12 },
      errors: 1,
      timeouts: 2,
      non2xx: 4,
      duration: 2,
    });
    assert.deepEqual(parseAutocannonOutput(`noise\n${json}`), {
      tool: 'autocannon',
      requests: 2000,
      rps: 1000,
      p50Ms: 1.5,
      p99Ms: 7,
      p999Ms: 12,
      errors: 7,
      errorKinds: { socket: 1, timeout: 2, status: 4 },
    });
  });
});

describe('wrk script', () => {
  it('sets the method and a body that cannot end the Lua string early', () => {
    const script = wrkScript({ method: 'POST', body: '{"a":"]]"}' });
    assert.match(script, /^wrk\.method = "POST"$/m);
    assert.match(script, /^wrk\.body = \[=\[\{"a":"\]\]"\}\]=\]$/m);
    assert.match(script, /latency:percentile\(99\.9\)/);
  });

  it('sends the rotating cookies in turn, one prebuilt request each', () => {
    const script = wrkScript({ rotatingCookies: ['s=1', 's=2'] });
    assert.match(script, /^local cookies = \{ \[\[s=1\]\], \[\[s=2\]\] \}$/m);
    assert.match(script, /requests\[i\] = wrk\.format\(nil, nil, \{ \["Cookie"\] = c \}\)/);
    assert.match(script, /^ {2}next = next % #requests \+ 1$/m);
    assert.throws(
      () =>
        loadCommand('autocannon', { url: 'http://x/', connections: 1, durationSec: 1, rotatingCookies: ['a'] }, '/tmp'),
      /rotating cookies need wrk/,
    );
  });

  it('runs wrk with one thread and the headers, autocannon for a fixed number of requests', () => {
    const wrk = loadCommand(
      'wrk',
      { url: 'http://x/', connections: 64, durationSec: 5, headers: { cookie: 'a=b' } },
      '/tmp',
    );
    assert.equal(wrk.command, 'wrk');
    assert.deepEqual(wrk.args.slice(0, 3), ['-t1', '-c64', '-d5s']);
    assert.deepEqual(wrk.args.slice(-3), ['-H', 'cookie: a=b', 'http://x/']);
    const storm = loadCommand('wrk', { url: 'http://x/', connections: 1000, durationSec: 0, amount: 1000 }, '/tmp');
    assert.equal(storm.command, process.execPath);
    assert.ok(storm.args.includes('-a') && storm.args.includes('1000'));
    assert.match(storm.args[0] ?? '', /autocannon\.js$/);
  });
});
