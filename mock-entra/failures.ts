/**
 * Scripted failures for resilience tests. Failures queue up in the order given; a request takes the first one
 * that matches its grant and uses up one of its `times`.
 */
import type { GrantType, MockFailure } from './types.js';

type TokenFailure = Exclude<MockFailure, { kind: 'jwks_down' } | { kind: 'graph_down' }>;

interface Pending<F> {
  failure: F;
  remaining: number;
}

/** The failure schedule of one mock server. */
export class FailureQueue {
  #token: Pending<TokenFailure>[] = [];
  #jwksDown = 0;
  #graphDown = 0;

  /**
   * Queues a failure. A previous never-ending failure for the same grant filter would shadow the new one for
   * ever, so it is replaced; finite ones stay queued ahead of it.
   */
  add(failure: MockFailure): void {
    const remaining = failure.times ?? Infinity;
    if (failure.kind === 'jwks_down') {
      this.#jwksDown = remaining;
      return;
    }
    if (failure.kind === 'graph_down') {
      this.#graphDown = remaining;
      return;
    }
    if (remaining <= 0) return;
    this.#token = this.#token.filter((p) => !(p.remaining === Infinity && p.failure.grant === failure.grant));
    this.#token.push({ failure, remaining });
  }

  clear(): void {
    this.#token = [];
    this.#jwksDown = 0;
    this.#graphDown = 0;
  }

  /** The failure to apply to this token request, if any (consumes one use). */
  takeForToken(grant: GrantType): TokenFailure | undefined {
    const index = this.#token.findIndex((p) => p.failure.grant === undefined || p.failure.grant === grant);
    const pending = this.#token[index];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.#token.splice(index, 1);
    return pending.failure;
  }

  /** Whether this JWKS request should fail (consumes one use). */
  takeJwksDown(): boolean {
    if (this.#jwksDown <= 0) return false;
    this.#jwksDown -= 1;
    return true;
  }

  /** Whether this Graph stand-in request should fail (consumes one use). */
  takeGraphDown(): boolean {
    if (this.#graphDown <= 0) return false;
    this.#graphDown -= 1;
    return true;
  }
}
