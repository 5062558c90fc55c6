import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BEGIN, END, replaceMarkedSection } from './doc-section.js';

describe('replaceMarkedSection', () => {
  it('replaces only the text between the markers', () => {
    const doc = `# Title\n\nMethod.\n\n${BEGIN}\nold table\n${END}\n\nAfter.\n`;
    assert.equal(
      replaceMarkedSection(doc, 'new table\n'),
      `# Title\n\nMethod.\n\n${BEGIN}\n\nnew table\n\n${END}\n\nAfter.\n`,
    );
  });

  it('refuses a document without the markers', () => {
    assert.throws(() => replaceMarkedSection('# Title\n', 'x'), /no <!-- bench:begin -->/);
    assert.throws(() => replaceMarkedSection(`${END}\n${BEGIN}`, 'x'), /no <!-- bench:begin -->/);
  });
});
