const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID (object id, client id, tenant id) in its usual 8-4-4-4-12 hex spelling, in any letter case. */
export function isGuid(v: string): boolean {
  return GUID.test(v);
}
