/**
 * Sanitizing lesson HTML: DOMPurify (on a jsdom window) keeps the markup markdown produces and
 * removes everything else an author might have written as raw HTML: scripts, event handlers,
 * iframes, style attributes, javascript: URLs.
 *
 * Code blocks never pass through here (render.ts inserts them afterwards), so anything that
 * looks like one in the sanitized HTML was written by hand: the attributes and classes of the
 * Run/Copy contract are stripped, and raw HTML cannot forge a Run button.
 */
import createDOMPurify, { type WindowLike } from 'dompurify';
import { JSDOM } from 'jsdom';

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'blockquote', 'br', 'button', 'code', 'dd', 'del', 'details', 'div', 'dl', 'dt', 'em',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li', 'ol', 'p', 'pre', 's', 'samp', 'span',
  'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
];
const ALLOWED_ATTR = ['href', 'title', 'alt', 'src', 'id', 'class', 'type', 'rel', 'target', 'align', 'start', 'colspan', 'rowspan', 'open'];
const CONTRACT_CLASSES = ['codeblock', 'codeblock-actions', 'code-run', 'code-copy'];
const EXTERNAL_URL = /^(?:https?:)?\/\//i;

const purify = createDOMPurify(new JSDOM('').window as unknown as WindowLike);

purify.addHook('afterSanitizeAttributes', (node) => {
  const element = node as Element;
  if (typeof element.getAttribute !== 'function') return;
  if (element.classList.length) {
    element.classList.remove(...CONTRACT_CLASSES);
    if (element.classList.length === 0) element.removeAttribute('class');
  }
  // A hand-written button does nothing but must not submit anything either.
  if (element.nodeName === 'BUTTON') element.setAttribute('type', 'button');
  else element.removeAttribute('type');
  const external = element.nodeName === 'A' && EXTERNAL_URL.test(element.getAttribute('href') ?? '');
  if (external) {
    element.setAttribute('rel', 'noopener noreferrer');
    element.setAttribute('target', '_blank');
  } else {
    element.removeAttribute('rel');
    element.removeAttribute('target');
  }
});

export function sanitizeLessonHtml(html: string): string {
  return purify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}
