import type { GroupsResolver } from '../access/groups-resolver.js';
import type { ClientBackoff } from '../session/client-backoff.js';
import type { CallbackThrottle } from '../login/callback-throttle.js';
import type { Ingress } from '../config/ingress.js';
import type { Keyring } from '../crypto/keyring.js';
import type { IdentityProvider } from '../oidc/provider.js';
import type { Metrics } from '../observability/metrics.js';
import type { StoreKeys } from '../session/keys.js';
import type { SessionManager } from '../session/manager.js';
import type { SessionPolicy } from '../session/policy.js';
import type { Sessions } from '../session/sessions.js';
import type { SessionStore } from '../session/store.js';

/** What the login routes need; built once in app.ts. */
export interface RouteDeps {
  readonly ingresses: readonly Ingress[];
  readonly scopes: readonly string[];
  /** The default `acr_values` of a login (VESTIBULE_ACR_VALUES); `?level=` replaces it. */
  readonly acrValues?: string | undefined;
  /** Client capabilities declared in every login's `claims` (VESTIBULE_CLIENT_CAPABILITIES, e.g. cp1). */
  readonly clientCapabilities?: readonly string[] | undefined;
  readonly sessionMaxLifetimeMs: number;
  readonly policy: SessionPolicy;
  readonly provider: IdentityProvider;
  readonly sessions: Sessions;
  readonly manager: SessionManager;
  readonly store: SessionStore;
  readonly keys: StoreKeys;
  readonly keyring: Keyring;
  readonly now: () => number;
  readonly metrics: Metrics;
  /**
   * Whether the TCP peer is a trusted proxy (VESTIBULE_TRUSTED_PROXIES), whose `X-Forwarded-For` then names the
   * client; the callback throttle counts per client address. Without it the socket peer is the client.
   */
  /** The client-wide IdP back-off the refresher keeps: a callback does not redeem a code while it holds. */
  readonly clientBackoff?: ClientBackoff | undefined;
  /** One per process, shared by every ingress prefix's callback route. */
  readonly callbackThrottle: CallbackThrottle;
  readonly isTrustedPeer?: ((address: string | undefined) => boolean) | undefined;
  /** Looks up groups Entra left out of a token (overage), for /oauth2/userinfo; only when a rule names groups. */
  readonly groups?: GroupsResolver | undefined;
}
