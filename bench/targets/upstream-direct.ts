/** Target (a): the upstream app itself, no proxy: the ceiling every proxy is measured against. */
import type { BenchContext, Target } from '../target.js';

export function upstreamDirect(ctx: BenchContext): Target {
  return { id: 'a', label: '(a) upstream direct', url: `${ctx.upstreamUrl}/`, headers: {}, pid: ctx.upstreamPid };
}
