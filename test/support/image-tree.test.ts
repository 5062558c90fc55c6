import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aptInstall } from './image-tree.js';

describe('aptInstall (which runtime-stage RUN the image replay may stand in for with the host packages)', () => {
  it('reads a plain install of named packages', () => {
    assert.deepEqual(
      aptInstall(
        'apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*',
      ),
      ['libjemalloc2'],
    );
  });

  it('refuses anything it would not replay faithfully', () => {
    for (const run of [
      'apt-get update && apt-get install -y libjemalloc2 && rm -rf /app /var/lib/apt/lists/*',
      'apt-get install -y -t bookworm-backports libjemalloc2',
      'apt-get install -y libjemalloc2=5.3.0-1',
      'apt-get install -y libjemalloc2; rm -rf /app',
      'apt-get install -y $PKG',
      'rm -rf /var/lib/apt/lists/*',
      'npm ci',
    ]) {
      assert.equal(aptInstall(run), undefined, run);
    }
  });
});
