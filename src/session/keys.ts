import { createHash } from 'node:crypto';
import { isGuid } from '../config/guid.js';

/**
 * Store key names under one namespace per app (`vestibule:<client id>`), so several apps can share a
 * Redis. A session's record and its refresh lock share the hash tag `{id}` and so one Redis Cluster slot.
 */
export interface StoreKeys {
  record(id: string): string;
  lock(id: string): string;
  /**
   * When this session's last refresh failed at the IdP, the epoch ms before which no replica asks again (a lock
   * waiter takes the holder's failed attempt as its own instead of retrying at once).
   */
  refreshRetry(id: string): string;
  /** The whole client's back-off after the IdP throttled us: epoch ms before which no refresh grant is sent. */
  idpBackoff(): string;
  /** Index of the sessions created in one identity-provider session (`sid`), for front-channel logout. */
  bySid(sid: string): string;
  /** Index of one user's sessions (`oid`, see {@link normaliseOid}), for the operator's "end all sessions of this user". */
  byOid(oid: string): string;
  /** Marks a login `state` as spent so a login response cannot be replayed. */
  spentState(state: string): string;
}

/**
 * The one spelling of an Entra object id (`oid`): a GUID in lower case, or undefined when `oid` is not a GUID.
 * Indexing at login and every lookup go through this, so an operator who types the id in upper case (as some
 * portals show it) still finds the sessions Entra's lower-case claim indexed.
 */
export function normaliseOid(oid: string): string | undefined {
  return isGuid(oid) ? oid.toLowerCase() : undefined;
}

export function storeKeys(namespace: string): StoreKeys {
  // Identity-provider values are hashed into key names: they are attacker-influenced strings.
  const h = (v: string): string => createHash('sha256').update(v).digest('base64url').slice(0, 32);
  return {
    record: (id) => `${namespace}:s:{${id}}`,
    lock: (id) => `${namespace}:s:{${id}}:lock`,
    refreshRetry: (id) => `${namespace}:s:{${id}}:retry`,
    idpBackoff: () => `${namespace}:idp-backoff`,
    bySid: (sid) => `${namespace}:sid:{${h(sid)}}`,
    // Normalised here too, so every caller (login, logout, the admin route) lands on the same key.
    byOid: (oid) => `${namespace}:oid:{${h(normaliseOid(oid) ?? oid)}}`,
    spentState: (state) => `${namespace}:state:{${h(state)}}`,
  };
}

/** The session id part of a record key, or undefined if `key` is not one. */
export function idFromRecordKey(key: string): string | undefined {
  return /:s:\{([A-Za-z0-9_-]+)\}$/.exec(key)?.[1];
}
