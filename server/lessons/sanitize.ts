/**
 * The last step of rendering: DOMPurify (on a jsdom window) keeps exactly what the renderer
 * emits and removes everything else, including scripts, event handlers, iframes and
 * javascript: URLs an author might have written as raw HTML.
 *
 * Run and Copy buttons are the one place where lesson text becomes terminal input, so their
 * attributes (data-command, data-copy, data-runnable and the code-run/code-copy/codeblock
 * classes) survive only on elements the renderer itself produced, recognised by a random
 * marker per render. Raw HTML in a lesson cannot forge a Run button.
 *
 * Highlighted code is not in the HTML this sees (render.ts inserts shiki's output afterwards),
 * so no style attribute is allowed at all.
 */
import { randomBytes } from 'node:crypto';
import createDOMPurify, { type WindowLike } from 'dompurify';
import { JSDOM } from 'jsdom';

export const TRUST_MARKER_ATTRIBUTE = 'data-trusted-render';

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'blockquote', 'br', 'button', 'code', 'dd', 'del', 'details', 'div', 'dl', 'dt', 'em',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li', 'ol', 'p', 'pre', 's', 'samp', 'span',
  'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
];
const CONTRACT_ATTRIBUTES = ['data-runnable', 'data-command', 'data-copy'];
const CONTRACT_CLASSES = ['codeblock', 'codeblock-actions', 'code-run', 'code-copy'];
const ALLOWED_ATTR = [
  'href', 'title', 'alt', 'src', 'id', 'class', 'tabindex', 'type', 'rel', 'target',
  'align', 'start', 'colspan', 'rowspan', 'open', ...CONTRACT_ATTRIBUTES,
];
const EXTERNAL_URL = /^(?:https?:)?\/\//i;

const window = new JSDOM('').window;
const purify = createDOMPurify(window as unknown as WindowLike);
const trusted = new WeakSet<object>();
let currentMarker = '';

purify.addHook('uponSanitizeElement', (node) => {
  const element = node as Element;
  if (typeof element.getAttribute === 'function' && currentMarker && element.getAttribute(TRUST_MARKER_ATTRIBUTE) === currentMarker) {
    trusted.add(element);
  }
});

purify.addHook('uponSanitizeAttribute', (node, data) => {
  if (data.attrName === 'type' && node.nodeName !== 'BUTTON') data.keepAttr = false;
});

purify.addHook('afterSanitizeAttributes', (node) => {
  const element = node as Element;
  if (typeof element.getAttribute !== 'function') return;
  if (!trusted.has(element)) {
    for (const name of CONTRACT_ATTRIBUTES) element.removeAttribute(name);
    if (element.classList.length) {
      element.classList.remove(...CONTRACT_CLASSES);
      if (element.classList.length === 0) element.removeAttribute('class');
    }
    if (element.nodeName === 'BUTTON') element.setAttribute('type', 'button');
  }
  if (element.nodeName === 'A') {
    const href = element.getAttribute('href') ?? '';
    if (EXTERNAL_URL.test(href)) {
      element.setAttribute('rel', 'noopener noreferrer');
      element.setAttribute('target', '_blank');
    } else {
      element.removeAttribute('rel');
      element.removeAttribute('target');
    }
  } else {
    element.removeAttribute('rel');
    element.removeAttribute('target');
  }
});

/** A fresh marker for one render; put it on every element whose contract attributes must survive. */
export function newTrustMarker(): string {
  return randomBytes(12).toString('hex');
}

export function sanitizeLessonHtml(html: string, marker: string): string {
  currentMarker = marker;
  try {
    return purify.sanitize(html, {
      ALLOWED_TAGS,
      ALLOWED_ATTR,
      ALLOW_DATA_ATTR: false,
      ALLOW_ARIA_ATTR: false,
      // Commands are not URLs: without this, a command such as "localhost:8080/x" would fail
      // DOMPurify's URL check and lose its attribute.
      ADD_URI_SAFE_ATTR: ['data-command', 'data-copy'],
      FORBID_TAGS: ['style', 'script', 'iframe', 'object', 'embed', 'form', 'input', 'textarea', 'select'],
    });
  } finally {
    currentMarker = '';
  }
}
