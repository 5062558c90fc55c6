import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundOrder } from './matrix.js';

describe('roundOrder', () => {
  it('runs odd rounds in the given order and even rounds reversed', () => {
    const targets = ['b', 'd', 'e', 'g'];
    assert.deepEqual(roundOrder(targets, 1), ['b', 'd', 'e', 'g']);
    assert.deepEqual(roundOrder(targets, 2), ['g', 'e', 'd', 'b']);
    assert.deepEqual(roundOrder(targets, 3), ['b', 'd', 'e', 'g']);
    assert.deepEqual(targets, ['b', 'd', 'e', 'g'], 'the caller’s list is left as it was');
  });
});
