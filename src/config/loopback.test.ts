import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHostname } from './ingress.js';
import { isLoopbackName } from './loopback.js';

describe('isLoopbackName', () => {
  it('accepts only names that mean this machine', () => {
    for (const name of ['localhost', 'LOCALHOST', '::1', '[::1]', '127.0.0.1', '127.255.255.255', '127.1.20.0']) {
      assert.equal(isLoopbackName(name), true, name);
    }
    for (const name of [
      '',
      'localhost.example.com',
      'evil.localhost',
      '127.0.0.256',
      '127.0.0.01',
      '127.0.0',
      '127.0.0.1.nip.io',
      '0.0.0.0',
      '::',
      '[::]',
      '10.0.0.1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isLoopbackName(name), false, name);
    }
  });

  it('lets only an ingress use *.localhost, which browsers resolve themselves', () => {
    assert.equal(isLoopbackHostname('app.localhost'), true);
    assert.equal(isLoopbackHostname('localhost.evil.com'), false);
  });
});
