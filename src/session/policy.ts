import type { SessionRecord } from './record.js';

/** The timing rules of a session; all durations in milliseconds. */
export interface SessionPolicy {
  /** Refresh when the access token expires within this margin. */
  readonly refreshMarginMs: number;
  /** Least time between two refreshes (halved for tokens living two minutes or less). */
  readonly refreshCooldownMs: number;
  /** Inactivity timeout, or null when off. */
  readonly inactivityTimeoutMs: number | null;
}

/** Whether the session is past its hard end. */
export function hasEnded(r: SessionRecord, now: number): boolean {
  return now >= r.endsAt;
}

/** Whether the session is usable: not ended and not timed out for inactivity. */
export function isActive(r: SessionRecord, now: number): boolean {
  return !hasEnded(r, now) && (r.timeoutAt === null || now < r.timeoutAt);
}

/** When the cooldown after the last refresh ends. Short-lived tokens get half their lifetime instead. */
export function cooldownUntil(r: SessionRecord, p: SessionPolicy): number {
  const lifetime = r.accessTokenExpiresAt - r.refreshedAt;
  const cooldown = lifetime <= 120_000 ? Math.min(p.refreshCooldownMs, lifetime / 2) : p.refreshCooldownMs;
  return r.refreshedAt + cooldown;
}

/**
 * When the next automatic refresh is due: `margin` before the access token expires, earlier with an
 * inactivity timeout (half-way to it, so an active user keeps extending it), never inside the cooldown.
 */
export function nextRefreshAt(r: SessionRecord, p: SessionPolicy): number {
  let at = r.accessTokenExpiresAt - p.refreshMarginMs;
  if (r.timeoutAt !== null) at = Math.min(at, r.refreshedAt + (r.timeoutAt - r.refreshedAt) / 2);
  return Math.max(at, cooldownUntil(r, p));
}

/** Whether a request at `now` should refresh first. */
export function shouldRefresh(r: SessionRecord, now: number, p: SessionPolicy): boolean {
  return r.refreshToken !== null && isActive(r, now) && now >= nextRefreshAt(r, p);
}

/** Whether the inactivity deadline should be pushed out by this (active) request without a refresh. */
export function shouldTouch(r: SessionRecord, now: number, p: SessionPolicy): boolean {
  if (r.timeoutAt === null || p.inactivityTimeoutMs === null || !isActive(r, now)) return false;
  // Extend once half of the window has passed: at most two writes per window, not one per request.
  return r.timeoutAt - now < p.inactivityTimeoutMs / 2;
}

/** The inactivity deadline for activity at `now`, capped by the hard end. */
export function timeoutFrom(now: number, r: Pick<SessionRecord, 'endsAt'>, p: SessionPolicy): number | null {
  return p.inactivityTimeoutMs === null ? null : Math.min(now + p.inactivityTimeoutMs, r.endsAt);
}

const NO_TIMEOUT = '0001-01-01T00:00:00Z';
const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));
const iso = (ms: number): string => new Date(ms).toISOString();

/** Session metadata in Wonderwall's JSON shape, so frontends written for it work unchanged. */
export interface SessionMetadata {
  readonly session: {
    readonly created_at: string;
    readonly ends_at: string;
    readonly timeout_at: string;
    readonly ends_in_seconds: number;
    readonly active: boolean;
    readonly timeout_in_seconds: number;
  };
  readonly tokens: {
    readonly expire_at: string;
    readonly refreshed_at: string;
    readonly expire_in_seconds: number;
    readonly next_auto_refresh_in_seconds: number;
    readonly refresh_cooldown: boolean;
    readonly refresh_cooldown_seconds: number;
  };
}

export function sessionMetadata(r: SessionRecord, now: number, p: SessionPolicy): SessionMetadata {
  const cooldown = cooldownUntil(r, p);
  return {
    session: {
      created_at: iso(r.createdAt),
      ends_at: iso(r.endsAt),
      timeout_at: r.timeoutAt === null ? NO_TIMEOUT : iso(r.timeoutAt),
      ends_in_seconds: seconds(r.endsAt - now),
      active: isActive(r, now),
      timeout_in_seconds: r.timeoutAt === null ? -1 : seconds(r.timeoutAt - now),
    },
    tokens: {
      expire_at: iso(r.accessTokenExpiresAt),
      refreshed_at: iso(r.refreshedAt),
      expire_in_seconds: seconds(r.accessTokenExpiresAt - now),
      next_auto_refresh_in_seconds: r.refreshToken === null ? -1 : seconds(nextRefreshAt(r, p) - now),
      refresh_cooldown: now < cooldown,
      refresh_cooldown_seconds: seconds(cooldown - now),
    },
  };
}
