/**
 * Test controls: the operations behind the programmatic handle, and the same operations over HTTP at `/_mock/*`
 * for separate processes (demo, benchmark). Loopback tooling, so no authentication.
 */
import { z } from 'zod';
import type { MockContext } from './context.js';
import { jsonReply, textReply } from './http-io.js';
import type { MockRequest, Reply } from './http-io.js';
import { GRANT_TYPES } from './types.js';

/** Counters as `/_mock/stats` reports them: every grant type, zero included. */
export function statsOf(ctx: MockContext): { grants: Record<string, number>; endSessionCalls: number } {
  const grants: Record<string, number> = {};
  for (const grant of GRANT_TYPES) grants[grant] = ctx.grantCounts.get(grant) ?? 0;
  return { grants, endSessionCalls: ctx.endSessionCalls.length };
}

/** Clears counters and logs; failures, tokens and keys are left alone. */
export function resetCounters(ctx: MockContext): void {
  ctx.grantCounts.clear();
  ctx.requestLog.length = 0;
  ctx.endSessionCalls.length = 0;
}

/** Revokes the refresh tokens issued so far, of one user (`oid`) or of everyone. */
export function revokeRefreshTokens(ctx: MockContext, oid?: string): void {
  for (const grant of ctx.refreshTokens.values()) {
    if (oid === undefined || grant.user.oid === oid) grant.revoked = true;
  }
}

export function setLifetimes(ctx: MockContext, l: { accessToken?: number; idToken?: number }): void {
  if (l.accessToken !== undefined) ctx.lifetimes.accessToken = l.accessToken;
  if (l.idToken !== undefined) ctx.lifetimes.idToken = l.idToken;
}

const grantSchema = z.enum(GRANT_TYPES).optional();
const timesSchema = z.number().int().positive().optional();
const failureSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('status'),
    status: z.number().int().min(400).max(599),
    grant: grantSchema,
    times: timesSchema,
    retryAfter: z.union([z.number().int().nonnegative(), z.string().min(1)]).optional(),
  }),
  z.object({ kind: z.literal('delay'), ms: z.number().int().nonnegative(), grant: grantSchema, times: timesSchema }),
  z.object({ kind: z.literal('invalid_grant'), grant: grantSchema, times: timesSchema }),
  z.object({ kind: z.literal('interaction_required'), grant: grantSchema, times: timesSchema }),
  z.object({ kind: z.literal('jwks_down'), times: timesSchema }),
  z.object({ kind: z.literal('graph_down'), times: timesSchema }),
]);
const lifetimesSchema = z.object({
  accessToken: z.number().int().positive().optional(),
  idToken: z.number().int().positive().optional(),
});
const revokeSchema = z.object({ oid: z.string().optional() });

function parseJson<T>(body: string, schema: z.ZodType<T>): T | string {
  let raw: unknown;
  try {
    raw = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : z.prettifyError(parsed.error);
}

const done: Reply = { status: 204 };

/** `/_mock/*`; `rotate` is async (key generation), the rest act on the context directly. */
export async function handleControl(ctx: MockContext, req: MockRequest): Promise<Reply> {
  const action = req.path.slice('/_mock/'.length);
  if (action === 'stats' && req.method === 'GET') return jsonReply(200, statsOf(ctx));
  if (req.method !== 'POST') return textReply(404, 'Not Found');
  switch (action) {
    case 'reset':
      resetCounters(ctx);
      return done;
    case 'clear-failures':
      ctx.failures.clear();
      return done;
    case 'rotate-key':
      await ctx.keys.rotate();
      return done;
    case 'remove-old-keys':
      ctx.keys.removeOld();
      return done;
    case 'fail': {
      const failure = parseJson(req.body, failureSchema);
      if (typeof failure === 'string') return textReply(400, failure);
      ctx.failures.add(failure);
      return done;
    }
    case 'lifetimes': {
      const lifetimes = parseJson(req.body, lifetimesSchema);
      if (typeof lifetimes === 'string') return textReply(400, lifetimes);
      setLifetimes(ctx, lifetimes);
      return done;
    }
    case 'revoke-refresh-tokens': {
      const revoke = parseJson(req.body, revokeSchema);
      if (typeof revoke === 'string') return textReply(400, revoke);
      revokeRefreshTokens(ctx, revoke.oid);
      return done;
    }
    default:
      return textReply(404, 'Not Found');
  }
}
