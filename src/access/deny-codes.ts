import type { ErrorCode } from '../errors/registry.js';
import type { DenyReason } from './decision.js';

/**
 * The error a protected-path denial is answered with, one table for the proxy and forward-auth so the two
 * cannot drift apart; keyed by every {@link DenyReason}, so a new reason does not compile until it has a code.
 */
export const DENY_CODES: Readonly<Record<DenyReason, ErrorCode>> = {
  token: 'PROXY_INVALID_TOKEN',
  scope: 'PROXY_INSUFFICIENT_SCOPE',
  caller: 'PROXY_CALLER_FORBIDDEN',
  group: 'PROXY_GROUP_REQUIRED',
  claims: 'PROXY_CLAIMS_REQUIRED',
};
