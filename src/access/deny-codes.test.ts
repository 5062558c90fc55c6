import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryOf } from '../errors/registry.js';
import type { DenyReason } from './decision.js';
import { DENY_CODES } from './deny-codes.js';

// sendError answers with the registry's status, not the verdict's: the two must say the same thing, and the
// statuses here are the ones decideAccess gives each reason (decision.test.ts).
const VERDICT_STATUS: Record<DenyReason, 401 | 403> = { token: 401, scope: 403, caller: 403, group: 403, claims: 401 };

describe('DENY_CODES', () => {
  for (const [why, status] of Object.entries(VERDICT_STATUS) as [DenyReason, 401 | 403][]) {
    it(`answers a '${why}' denial with ${DENY_CODES[why]}, status ${status} as the verdict says`, () => {
      assert.equal(entryOf(DENY_CODES[why]).status, status);
    });
  }
});
