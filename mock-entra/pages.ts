/**
 * The mock's HTML: login page, error page, signed-out page and the `form_post` auto-submit page. Plain strings,
 * every interpolated value escaped.
 */
import { escapeHtml } from '../src/errors/escape-html.js';
import type { MockUser } from './types.js';

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f2f1;margin:0;color:#1b1b1b}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem 2.5rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.4rem;font-weight:600;margin:0 0 .25rem}
p.sub{margin:0 0 1.5rem;color:#605e5c;font-size:.9rem}
.users button{display:block;width:100%;text-align:left;padding:.75rem 1rem;margin:.5rem 0;font-size:1rem;
  background:#fff;border:1px solid #8a8886;cursor:pointer}
.users button:hover{background:#f3f2f1}
form.typed{margin-top:1.5rem;display:flex;flex-wrap:wrap;gap:.5rem}
form.typed label{width:100%;font-size:.9rem;color:#605e5c}
form.typed input{flex:1;padding:.5rem;font-size:1rem;border:1px solid #8a8886}
form.typed button{padding:.5rem 1.25rem;font-size:1rem;background:#0067b8;color:#fff;border:0;cursor:pointer}
p.params{margin:1.5rem 0 0;font-size:.8rem;color:#605e5c}
dl{margin-top:.25rem;font-size:.8rem;color:#605e5c}dt{font-weight:600}dd{margin:0 0 .25rem}
p.error{color:#a4262c}`;

function page(title: string, body: string, lang = 'en'): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function hiddenInputs(params: ReadonlyMap<string, string>): string {
  return [...params]
    .filter(([key]) => key !== 'username')
    .map(([key, value]) => `<input type="hidden" name="${escapeHtml(key)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

/** Parameters worth showing on the login page, so a demo can see what the sidecar passed through. */
const SHOWN = ['prompt', 'login_hint', 'domain_hint', 'ui_locales', 'acr_values', 'max_age', 'response_mode'];

/**
 * The login page: one submit button per user, plus a text field for any other name. Two forms, each carrying all
 * authorize parameters, so a submission never contains two `username` values.
 */
export function renderLoginPage(o: {
  action: string;
  params: ReadonlyMap<string, string>;
  users: readonly MockUser[];
  appName: string;
  error?: string;
}): string {
  const hidden = hiddenInputs(o.params);
  const buttons = o.users
    .map(
      (u) => `<button type="submit" name="username" value="${escapeHtml(u.username)}">${escapeHtml(u.name)}</button>`,
    )
    .join('\n');
  const shown = SHOWN.filter((k) => o.params.has(k))
    .map((k) => `<dt>${k}</dt><dd>${escapeHtml(o.params.get(k) ?? '')}</dd>`)
    .join('');
  const lang = (o.params.get('ui_locales') ?? '').split(' ').find((l) => l === 'nb' || l === 'en') ?? 'en';
  return page(
    'Mock Entra ID — sign in',
    `<h1>Mock Entra ID — sign in</h1>
<p class="sub">to continue to ${escapeHtml(o.appName)}</p>
${o.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(o.error)}</p>`}
<form method="post" action="${escapeHtml(o.action)}" class="users">
${hidden}
${buttons}
</form>
<form method="post" action="${escapeHtml(o.action)}" class="typed">
${hidden}
<label for="username">Or sign in as someone else</label>
<input id="username" name="username" type="text" autocomplete="username" value="${escapeHtml(o.params.get('login_hint') ?? '')}">
<button type="submit">Sign in</button>
</form>
${shown === '' ? '' : `<p class="params" id="params-label">Sent by the app with this sign-in request (shown by the mock only; Entra ID does not show them)</p>\n<dl aria-labelledby="params-label">${shown}</dl>`}`,
    lang,
  );
}

/** An authorize error that must not redirect (unknown client, unregistered redirect URI, malformed request). */
export function renderErrorPage(message: string): string {
  return page(
    'Mock Entra ID — error',
    `<h1>Sorry, but we're having trouble signing you in.</h1>\n<p class="error">${escapeHtml(message)}</p>`,
  );
}

export function renderSignedOutPage(): string {
  return page(
    'Mock Entra ID — signed out',
    `<h1>You have been signed out</h1>\n<p class="sub">It's a good idea to close all browser windows.</p>`,
  );
}

/** `response_mode=form_post`: an auto-submitting form to the client's redirect URI. */
export function renderFormPost(action: string, params: Record<string, string>): string {
  const inputs = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(action)}">
${inputs}
<noscript><button type="submit">Continue</button></noscript></form></body></html>`;
}
