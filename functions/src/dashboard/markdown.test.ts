// Markdown a worker wrote, rendered: structure kept, every way to run script or leave the page removed.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown.js';
import { HOSTILE_MARKDOWN } from './testing.js';

describe('renderMarkdown', () => {
  it('keeps headings, lists, task boxes, code and http links', async () => {
    const out = await renderMarkdown(HOSTILE_MARKDOWN);
    expect(out).toContain('<h1>Progress</h1>');
    expect(out).toContain('☑ feed done');
    expect(out).toContain('☐ tests');
    expect(out).toContain('<pre><code>');
    expect(out).toContain('&lt;b&gt;not bold&lt;/b&gt;');
    expect(out).toContain(
      '<a href="https://example.com/docs" rel="noopener noreferrer nofollow" target="_blank">',
    );
  });

  it('leaves no script, handler, style, frame, form, image or javascript: / data: link', async () => {
    const out = await renderMarkdown(HOSTILE_MARKDOWN);
    expect(out).not.toMatch(/<(?:script|iframe|img|svg|form|input|style|details)/i);
    expect(out).not.toMatch(/\son\w+\s*=/i);
    expect(out).not.toMatch(/style=/i);
    expect(out).not.toMatch(/href="(?:javascript|data):/i);
    expect(out).not.toMatch(/src=/i);
    // What was removed as markup stays visible as text, so the owner sees what the worker tried.
    expect(out).toContain('&lt;script&gt;');
    expect(out).toContain('<a rel="noopener noreferrer nofollow" target="_blank">md link</a>');
  });

  it('renders an empty text and plain text without markup of its own', async () => {
    expect(await renderMarkdown('')).toBe('');
    expect(await renderMarkdown('just text & more')).toBe('<p>just text &amp; more</p>\n');
  });
});
