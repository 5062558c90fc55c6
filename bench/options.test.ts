import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from './options.js';

describe('bench options', () => {
  it('runs the image’s node flags and writes the doc by default', () => {
    const o = parseOptions([]);
    assert.equal(o.nodeFlags, undefined);
    assert.equal(o.write, true);
    assert.deepEqual(o.connections, [16, 64, 256]);
  });

  it('--node-flags replaces the image’s flags ("" for none) and never writes the doc', () => {
    const o = parseOptions(['--node-flags=--max-semi-space-size=16  --heap-growing-percent=100']);
    assert.deepEqual(o.nodeFlags, ['--max-semi-space-size=16', '--heap-growing-percent=100']);
    assert.equal(o.write, false);
    assert.deepEqual(parseOptions(['--node-flags=']).nodeFlags, []);
  });

  it('refuses what is not a node flag, naming it', () => {
    assert.throws(() => parseOptions(['--node-flags=--max-semi-space-size=8 dist/src/main.js']), /dist\/src\/main\.js/);
    assert.throws(() => parseOptions(['--targets', 'd,x']), /unknown targets: x/);
  });

  it('--profile-target g profiles the cache-miss path (and implies --profile); --chart names the SVG', () => {
    const o = parseOptions(['--profile-target', 'g', '--chart', '/tmp/c.svg']);
    assert.equal(o.profile, true);
    assert.equal(o.profileTarget, 'g');
    assert.equal(o.chart, '/tmp/c.svg');
    assert.equal(parseOptions(['--profile']).profileTarget, 'd');
    assert.throws(() => parseOptions(['--profile-target', 'e']), /d or g/);
    assert.throws(() => parseOptions(['--targets', 'b,d', '--profile-target', 'g']), /needs g among --targets/);
  });
});
