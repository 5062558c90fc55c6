import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml } from './escape-html.js';

describe('escapeHtml', () => {
  it('turns each of the five HTML-special characters into its entity', () => {
    assert.equal(escapeHtml('&'), '&amp;');
    assert.equal(escapeHtml('<'), '&lt;');
    assert.equal(escapeHtml('>'), '&gt;');
    assert.equal(escapeHtml('"'), '&quot;');
    assert.equal(escapeHtml("'"), '&#39;');
  });

  it('escapes every occurrence, in one pass (an ampersand it produced is not escaped again)', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&amp;</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    assert.equal(escapeHtml('<<>>'), '&lt;&lt;&gt;&gt;');
  });

  it('leaves everything else alone: plain text, the empty string, non-ASCII, backticks, slashes and equals signs', () => {
    for (const s of ['', 'plain text', 'Nordmann, Kari — Ø', '`/=;:()', 'tab\tnew\nline', '😀']) {
      assert.equal(escapeHtml(s), s);
    }
  });

  it('leaves no raw special character behind in any string', () => {
    const all = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i)).join('');
    const out = escapeHtml(all.repeat(3));
    assert.doesNotMatch(out.replace(/&(amp|lt|gt|quot|#39);/g, ''), /[&<>"']/);
    assert.equal(out.replace(/&(amp|lt|gt|quot|#39);/g, '').length, (0x80 - 5) * 3);
  });
});
