/**
 * Sanitizing lesson HTML: sanitize-html keeps the markup markdown produces and removes
 * everything else an author might have written as raw HTML: scripts, event handlers, iframes,
 * style attributes, javascript: URLs. (It parses with htmlparser2; a full DOM such as jsdom cost
 * the server ~95 MB of memory for this one job.)
 *
 * Code blocks never pass through here (render.ts inserts them afterwards), so anything that
 * looks like one in the sanitized HTML was written by hand: the classes of the Run/Copy contract
 * are stripped, and raw HTML cannot forge a Run button.
 */
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'blockquote', 'br', 'button', 'code', 'dd', 'del', 'details', 'div', 'dl', 'dt', 'em',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li', 'ol', 'p', 'pre', 's', 'samp', 'span',
  'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
];
const CONTRACT_CLASSES = new Set(['codeblock', 'codeblock-actions', 'code-run', 'code-copy']);
const EXTERNAL_URL = /^(?:https?:)?\/\//i;

const options: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    '*': ['id', 'class', 'title', 'align'],
    a: ['href', 'rel', 'target'],
    img: ['src', 'alt'],
    ol: ['start'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
    details: ['open'],
    button: ['type'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: true,
  disallowedTagsMode: 'discard',
  // Contents of these are dropped with the tag, not shown as text.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template'],
  transformTags: {
    '*': (tagName, attribs) => {
      const out: sanitizeHtml.Attributes = { ...attribs };
      if (out.class) {
        const kept = out.class.split(/\s+/).filter((c) => c && !CONTRACT_CLASSES.has(c));
        if (kept.length) out.class = kept.join(' ');
        else delete out.class;
      }
      // A hand-written button does nothing but must not submit anything either.
      if (tagName === 'button') out.type = 'button';
      else delete out.type;
      if (tagName === 'a' && EXTERNAL_URL.test(out.href ?? '')) {
        out.rel = 'noopener noreferrer';
        out.target = '_blank';
      } else {
        delete out.rel;
        delete out.target;
      }
      return { tagName, attribs: out };
    },
  },
};

export function sanitizeLessonHtml(html: string): string {
  return sanitizeHtml(html, options);
}
