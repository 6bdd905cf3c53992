import { h } from '../dom.js';

/**
 * Hints are short markdown strings; this renders their inline subset (`code`, **strong**,
 * *emphasis*) as elements, never as HTML, so a hint cannot inject markup.
 */
export function inlineMarkdown(text: string, options: { codeOnly?: boolean } = {}): Node[] {
  const nodes: Node[] = [];
  // codeOnly: for text that quotes what the cluster said, where * and _ are literal.
  const pattern = options.codeOnly ? /`([^`]+)`()()()/g : /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const [, code, strong, em, underscored] = match;
    if (code !== undefined) nodes.push(h('code', {}, code));
    else if (strong !== undefined) nodes.push(h('strong', {}, strong));
    else nodes.push(h('em', {}, em ?? underscored ?? ''));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}
