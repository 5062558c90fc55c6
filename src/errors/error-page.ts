import { escapeHtml } from './escape-html.js';

export interface ErrorPage {
  readonly status: number;
  readonly title: string;
  readonly message: string;
  readonly correlationId: string;
  /** "Try again" target (a same-site path), when retrying can help. */
  readonly retryUrl?: string | undefined;
  /** The retry button's label; "Try again" when omitted. */
  readonly retryLabel?: string | undefined;
  readonly homeUrl: string;
}

/** A small self-contained HTML page for login errors: what happened, a correlation id, a way on; no internals. */
export function renderErrorPage(p: ErrorPage): string {
  const retry = p.retryUrl
    ? `<a class="button" href="${escapeHtml(p.retryUrl)}">${escapeHtml(p.retryLabel ?? 'Try again')}</a>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1f2328;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:2rem 2.5rem;max-width:32rem}
h1{font-size:1.4rem;margin:0 0 .75rem}p{line-height:1.5}.id{color:#59636e;font-size:.85rem;font-family:ui-monospace,monospace}
a.button{display:inline-block;background:#0f6cbd;color:#fff;padding:.55rem 1.1rem;border-radius:6px;text-decoration:none;margin-right:.75rem}
a.home{color:#0f6cbd}
</style></head>
<body><main>
<h1>${escapeHtml(p.title)}</h1>
<p>${escapeHtml(p.message)}</p>
<p>${retry}<a class="home" href="${escapeHtml(p.homeUrl)}">Go to the front page</a></p>
<p class="id">Status ${p.status} · Correlation ID: ${escapeHtml(p.correlationId)}</p>
</main></body></html>
`;
}
