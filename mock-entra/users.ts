/**
 * The mock's employees: a default set for demos and tests, and on-the-fly users for any name typed on the login
 * page. Ids derive from the username, so the same name always gets the same `oid` and `NAVident`.
 */
import { createHash } from 'node:crypto';
import { stableGuid } from './claims.js';
import type { MockUser } from './types.js';

const DOMAIN = 'nav.example';

/** Group ids the default users belong to (stable so tests and demo config can reference them). */
export const MOCK_GROUPS = {
  saksbehandler: '2d7f1c9e-4b3a-4f0e-9c1d-6a5b4e3f2a10',
  veileder: '8c4e2a6f-1d3b-4e7a-b5c9-0f1e2d3c4b5a',
  utvikler: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
} as const;

/** Four employees (the fourth with groups overage); the first is the default user for minted tokens. */
export function defaultUsers(): MockUser[] {
  return [
    {
      username: `kari.nordmann@${DOMAIN}`,
      name: 'Nordmann, Kari',
      oid: stableGuid(`user:kari.nordmann@${DOMAIN}`),
      navIdent: 'Z990001',
      groups: [MOCK_GROUPS.saksbehandler, MOCK_GROUPS.veileder],
    },
    {
      username: `ola.hansen@${DOMAIN}`,
      name: 'Hansen, Ola',
      oid: stableGuid(`user:ola.hansen@${DOMAIN}`),
      navIdent: 'Z990002',
      groups: [MOCK_GROUPS.veileder],
    },
    {
      username: `ingrid.berg@${DOMAIN}`,
      name: 'Berg, Ingrid',
      oid: stableGuid(`user:ingrid.berg@${DOMAIN}`),
      navIdent: 'Z990003',
      groups: [MOCK_GROUPS.utvikler],
    },
    {
      // In so many groups that Entra leaves them out of her tokens (overage): only Graph knows them.
      username: `mange.grupper@${DOMAIN}`,
      name: 'Grupper, Mange',
      oid: stableGuid(`user:mange.grupper@${DOMAIN}`),
      navIdent: 'Z990004',
      groups: [MOCK_GROUPS.saksbehandler, MOCK_GROUPS.utvikler],
      groupsOverage: true,
    },
  ];
}

/** Case-insensitive lookup by username (UPNs are case-insensitive in Entra). */
export function findUser(users: readonly MockUser[], username: string): MockUser | undefined {
  const wanted = username.trim().toLowerCase();
  return users.find((u) => u.username.toLowerCase() === wanted);
}

/** A user made from whatever was typed: `Per Olsen` → `per.olsen@nav.example`, a UPN is kept as is. */
export function userFromTypedName(typed: string): MockUser {
  const trimmed = typed.trim();
  const username = trimmed.includes('@')
    ? trimmed.toLowerCase()
    : `${
        trimmed
          .toLowerCase()
          .normalize('NFKD')
          .replace(/[^a-z0-9]+/g, '.')
          .replace(/^\.+|\.+$/g, '') || 'user'
      }@${DOMAIN}`;
  const name = trimmed.includes('@') ? (trimmed.split('@')[0] ?? trimmed) : trimmed;
  const digits = parseInt(createHash('sha256').update(username).digest('hex').slice(0, 8), 16) % 1_000_000;
  return {
    username,
    name,
    oid: stableGuid(`user:${username}`),
    navIdent: `Z${String(digits).padStart(6, '0')}`,
    groups: [],
  };
}
