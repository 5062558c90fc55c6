const ESCAPED: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text made safe to put in HTML element content and in quoted attribute values: `&`, `<`, `>`, `"` and `'`
 * become entities, everything else stays as it is. One pass, so an entity produced here is never escaped again.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPED[c] ?? c);
}
