import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from './free-port.js';

describe('freePort', () => {
  it('returns a port in the unprivileged range that can be bound on 127.0.0.1 right away', async () => {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port >= 1024 && port <= 65535, String(port));
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    assert.equal(address.port, port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('does not return a port that is being listened on', async () => {
    const held = createServer();
    held.listen(0, '127.0.0.1');
    await once(held, 'listening');
    const address = held.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      for (let i = 0; i < 20; i++) assert.notEqual(await freePort(), address.port);
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  });
});
