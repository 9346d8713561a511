// Markdown a worker wrote (PROGRESS.md, its result) as inert HTML: marked renders, sanitize-html keeps an allow-list.
import type { IOptions } from 'sanitize-html';

/**
 * What may survive: text structure, links and code. No script, style, iframe, form, input or image (an image
 * would load from anywhere the worker names, and the CSP refuses it anyway), no attribute but these, so
 * no event handler or inline style; links only to http(s) and mailto, opened without a referrer.
 */
const ALLOWED: IOptions = {
  allowedTags: [
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'p',
    'br',
    'hr',
    'blockquote',
    'pre',
    'code',
    'em',
    'strong',
    'del',
    's',
    'ul',
    'ol',
    'li',
    'a',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    ol: ['start'],
    th: ['align'],
    td: ['align'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'escape',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: 'noopener noreferrer nofollow', target: '_blank' },
    }),
  },
};
// Attributes transformTags adds must be allowed too.
(ALLOWED.allowedAttributes as Record<string, string[]>).a?.push('rel', 'target');

let renderer: ((markdown: string) => string) | undefined;

/**
 * Renders Markdown to sanitised HTML. Both libraries are loaded on first use, so a request that shows
 * no Markdown (and every other function) never pays for them.
 */
export async function renderMarkdown(markdown: string): Promise<string> {
  if (renderer === undefined) {
    const [{ Marked }, { default: sanitize }] = await Promise.all([
      import('marked'),
      import('sanitize-html'),
    ]);
    const marked = new Marked({
      gfm: true,
      breaks: false,
      async: false,
      // Task list boxes as characters: no form control is allowed through.
      renderer: { checkbox: ({ checked }) => (checked ? '☑ ' : '☐ ') },
    });
    renderer = (text) => sanitize(marked.parse(text, { async: false }), ALLOWED);
  }
  return renderer(markdown);
}
