import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nginxConf } from './nginx-conf.js';
import { startNginx } from './nginx.js';

describe('nginxConf', () => {
  it('keeps every path under the given dir and wraps the http block', () => {
    const conf = nginxConf('/tmp/x', '  server { listen 127.0.0.1:1; }', { errorLogLevel: 'warn' });
    assert.match(conf, /^pid \/tmp\/x\/nginx\.pid;$/m);
    assert.match(conf, /^error_log \/tmp\/x\/error\.log warn;$/m);
    assert.match(conf, /http \{\n[\s\S]*server \{ listen 127\.0\.0\.1:1; \}\n\}\n$/);
    assert.doesNotMatch(conf, /\/var\//, 'nothing outside the dir');
  });

  it('is a configuration a real nginx starts with and serves', async () => {
    const nginx = await startNginx((port) => `  server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } }`);
    try {
      const res = await fetch(`${nginx.origin}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'ok');
    } finally {
      await nginx.close();
    }
  });
});
