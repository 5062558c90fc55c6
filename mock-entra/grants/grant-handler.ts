/**
 * The contract every grant implements: given the authenticated caller and the form, return the token
 * response body or throw the EntraError Entra would answer with.
 */
import type { AuthenticatedClient } from '../client-auth.js';
import type { MockContext } from '../context.js';
import type { Params } from '../http-io.js';

export type GrantHandler = (
  ctx: MockContext,
  form: Params,
  caller: AuthenticatedClient,
) => Promise<Record<string, unknown>>;
