/** Claims kept from the ID token because later features need them (logout by sid, operator logout by oid). */
export interface SessionClaims {
  readonly sub: string;
  readonly tid?: string | undefined;
  readonly oid?: string | undefined;
  readonly sid?: string | undefined;
  readonly name?: string | undefined;
  readonly preferredUsername?: string | undefined;
}

/** Everything a session holds. Stored only sealed; times are epoch milliseconds. */
export interface SessionRecord {
  readonly createdAt: number;
  /** Hard end: created + max lifetime. */
  readonly endsAt: number;
  /** Inactivity deadline, or null when the inactivity timeout is off. */
  readonly timeoutAt: number | null;
  readonly refreshedAt: number;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: number;
  readonly refreshToken: string | null;
  readonly idToken: string | null;
  readonly claims: SessionClaims;
}

const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optStr = (v: unknown): v is string | undefined => v === undefined || str(v);

/** Parses decrypted record bytes; null when the shape is not a record (defence against a corrupted store). */
export function decodeRecord(bytes: Buffer): SessionRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const c = r.claims as Record<string, unknown> | null | undefined;
  if (
    !num(r.createdAt) ||
    !num(r.endsAt) ||
    !(r.timeoutAt === null || num(r.timeoutAt)) ||
    !num(r.refreshedAt) ||
    !str(r.accessToken) ||
    !num(r.accessTokenExpiresAt) ||
    !(r.refreshToken === null || str(r.refreshToken)) ||
    !(r.idToken === null || str(r.idToken)) ||
    typeof c !== 'object' ||
    c === null ||
    !str(c.sub) ||
    !optStr(c.tid) ||
    !optStr(c.oid) ||
    !optStr(c.sid) ||
    !optStr(c.name) ||
    !optStr(c.preferredUsername)
  ) {
    return null;
  }
  return r as unknown as SessionRecord;
}

export function encodeRecord(record: SessionRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}
