import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { launchChromium } from './chromium.js';

describe('launchChromium', () => {
  it('opens a page served on loopback and reads what the page itself computed', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<title>t</title><p id="x"></p><script>document.getElementById("x").textContent = 6 * 7</script>');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${address.port}/`);
      assert.equal(await page.textContent('#x'), '42');
    } finally {
      await browser.close();
      server.close();
    }
  });
});
