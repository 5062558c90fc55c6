import { loginUrlWith } from '../request/login-url.js';

/**
 * The login URL that asks Entra for more than the session has: `/oauth2/login` with the `claims` request
 * parameter (OIDC Core 5.5) and the page to return to. The login route passes `claims` on to the authorization
 * request; Entra then runs the Conditional Access policy of the authentication context and puts it in `acrs`.
 * Used for `acrs=` rules and for an app's own `insufficient_claims` challenges.
 *
 * @param claimsJson the claims request as JSON, e.g. `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
 * @param redirect where the browser goes after the login (a path on the ingress, as `/oauth2/login` accepts)
 * @param routePrefix the ingress's path prefix (`/app` for https://host/app), '' at the root
 * @see https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context
 */
export function stepUpLoginUrl(claimsJson: string, redirect: string, routePrefix = ''): string {
  return loginUrlWith(redirect, routePrefix, 'claims', claimsJson);
}

/**
 * The claims request for an access token with one of the authentication contexts `acrs` (essential): `value`
 * for one, `values` for several (any one satisfies the rule).
 */
export function acrsClaimsRequest(acrs: readonly string[]): string {
  const acrsRequest = acrs.length === 1 ? { essential: true, value: acrs[0] } : { essential: true, values: acrs };
  return JSON.stringify({ access_token: { acrs: acrsRequest } });
}
