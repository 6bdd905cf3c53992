import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCatalog, type Step, type Track } from '../../server/lessons/catalog.js';
import { renderCacheStats, renderHints, renderStep, renderTrackSummary } from '../../server/lessons/render.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let track: Track;
let blocks: Step;
let hostile: Step;

beforeAll(async () => {
  const catalog = await loadCatalog(path.join(here, '../fixtures/lessons/render'));
  expect(catalog.problems).toEqual([]);
  track = catalog.tracks[0]!;
  [blocks, hostile] = track.steps as [Step, Step];
});

function parse(html: string): Document {
  return new JSDOM(`<body>${html}</body>`).window.document;
}

const HEREDOC_COMMAND = [
  `cat <<'EOF2' | grep -c "a & b" > /tmp/out.txt`,
  `it's "quoted" <tag> a & b --> ]]>`,
  'EOF2',
  'curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.30.3 sh -',
].join('\n');

describe('renderStep: first use', () => {
  it('renders many steps at once on a fresh renderer, every code block in place', async () => {
    vi.resetModules();
    const fresh = await import('../../server/lessons/render.js');
    const pages = await Promise.all([
      ...track.steps.map((step) => fresh.renderStep(track, step)),
      ...track.steps.map((step) => fresh.renderHints(track, step).then((hints) => hints.join(''))),
    ]);
    const counts = pages.map((html) => parse(html).querySelectorAll('div.codeblock > pre.shiki').length);
    expect(counts).toEqual([4, 0, 1, 0]);
    for (const html of pages) expect(html).not.toContain('highlighted-code-slot');
  });
});

describe('renderStep: code blocks', () => {
  it('renders a runnable block exactly as the client contract says', async () => {
    const html = await renderStep(track, blocks);
    expect(html).toContain(
      '<div class="codeblock" data-runnable="true"><div class="codeblock-actions">' +
        '<button type="button" class="code-run" data-command="kubectl get nodes">Run</button>' +
        '<button type="button" class="code-copy" data-copy="kubectl get nodes">Copy</button>' +
        '</div><pre class="shiki shiki-themes github-light github-dark"',
    );
  });

  it('gives runnable blocks a Run button carrying the exact command, newlines and quotes included', async () => {
    const document = parse(await renderStep(track, blocks));
    const runs = [...document.querySelectorAll<HTMLButtonElement>('div.codeblock[data-runnable="true"] button.code-run')];
    expect(runs.map((button) => button.dataset.command)).toEqual(['kubectl get nodes', HEREDOC_COMMAND]);
    const copies = [...document.querySelectorAll<HTMLButtonElement>('div.codeblock[data-runnable="true"] button.code-copy')];
    expect(copies.map((button) => button.dataset.copy)).toEqual(['kubectl get nodes', HEREDOC_COMMAND]);
  });

  it('gives other blocks only a Copy button, with variables substituted', async () => {
    const document = parse(await renderStep(track, blocks));
    const plain = [...document.querySelectorAll<HTMLElement>('div.codeblock[data-runnable="false"]')];
    expect(plain).toHaveLength(2); // the yaml block and the indented block
    for (const block of plain) expect(block.querySelector('button.code-run')).toBeNull();
    expect(plain.map((block) => block.querySelector<HTMLButtonElement>('button.code-copy')!.dataset.copy)).toEqual([
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-1.30.3',
      'indented code is not runnable',
    ]);
    expect(plain[0]!.querySelector('pre')!.textContent).toContain('name: istio-1.30.3');
  });

  it('highlights with both themes as CSS variables and no fixed colour', async () => {
    const document = parse(await renderStep(track, blocks));
    const pre = document.querySelector('div.codeblock pre.shiki')!;
    const preStyle = pre.getAttribute('style')!;
    expect(preStyle).toMatch(/--shiki-light-bg:/);
    expect(preStyle).toMatch(/--shiki-dark-bg:/);
    const tokens = [...pre.querySelectorAll('span[style]')];
    expect(tokens.length).toBeGreaterThan(1);
    for (const token of tokens) {
      const style = token.getAttribute('style')!;
      expect(style).toMatch(/--shiki-light:#[0-9a-f]+/i);
      expect(style).toMatch(/--shiki-dark:#[0-9a-f]+/i);
      expect(style).not.toMatch(/(^|;)\s*color:/);
    }
    // Syntax highlighting really happened: "kubectl" and "get" have different colours.
    const first = [...document.querySelectorAll('button.code-run')][0]!.closest('.codeblock')!;
    const colours = new Set([...first.querySelectorAll('span[style]')].map((span) => span.getAttribute('style')));
    expect(colours.size).toBeGreaterThan(1);
  });

  it('substitutes variables in prose and gives headings ids scoped to the step', async () => {
    const document = parse(await renderStep(track, blocks));
    const headings = [...document.querySelectorAll('h2')].map((heading) => [heading.id, heading.textContent]);
    expect(headings).toEqual([
      ['blocks--install-istio-1303', 'Install Istio 1.30.3'],
      ['blocks--plain-blocks', 'Plain blocks'],
      ['blocks--plain-blocks-1', 'Plain blocks'],
    ]);
    const links = [...document.querySelectorAll('a')].map((link) => [link.getAttribute('href'), link.getAttribute('target'), link.getAttribute('rel')]);
    expect(links).toEqual([
      ['#blocks--plain-blocks', null, null],
      ['https://istio.io/latest/docs/', '_blank', 'noopener noreferrer'],
      ['other.html', null, null],
    ]);
  });
});

describe('renderStep: sanitizing', () => {
  it('removes scripts, event handlers, javascript: links and iframes', async () => {
    const html = await renderStep(track, hostile);
    const document = parse(html);
    expect(document.querySelector('script, iframe')).toBeNull();
    expect(html).not.toMatch(/alert\(/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html.toLowerCase()).not.toContain('javascript');
    expect(document.body.textContent).toContain('Before  after.');
    // The image and the link texts stay; only the dangerous parts go.
    expect(document.querySelector('img')!.getAttribute('src')).toBe('x.png');
    expect([...document.querySelectorAll('a')].map((link) => link.textContent)).toEqual(['js link', 'raw js link', 'encoded', 'external']);
    expect(document.querySelector('[style]')).toBeNull();
    expect(document.querySelector('details summary')!.textContent).toBe('Allowed');
    expect(document.querySelectorAll('kbd')).toHaveLength(2);
  });

  it('does not let raw HTML forge Run or Copy buttons', async () => {
    const document = parse(await renderStep(track, hostile));
    expect(document.querySelector('[data-command], [data-copy], [data-runnable]')).toBeNull();
    expect(document.querySelector('.code-run, .code-copy, .codeblock')).toBeNull();
    for (const button of document.querySelectorAll('button')) expect(button.getAttribute('type')).toBe('button');
  });

  it('forces safe rel and target on external links', async () => {
    const document = parse(await renderStep(track, hostile));
    const external = [...document.querySelectorAll('a')].find((link) => link.textContent === 'external')!;
    expect(external.getAttribute('rel')).toBe('noopener noreferrer');
    expect(external.getAttribute('target')).toBe('_blank');
  });
});

describe('hints and track summary', () => {
  it('renders hints as markdown with their own runnable blocks', async () => {
    const [hint] = await renderHints(track, blocks);
    const button = parse(hint!).querySelector<HTMLButtonElement>('button.code-run')!;
    expect(button.dataset.command).toBe('istioctl version # 1.30.3');
  });

  it('renders the summary sanitized', async () => {
    const html = await renderTrackSummary(track);
    expect(html).toContain('<a href="https://istio.io" rel="noopener noreferrer" target="_blank">link</a>');
    expect(html).not.toContain('script');
  });
});

describe('render cache', () => {
  it('serves an unchanged step from the cache and re-renders an edited one', async () => {
    const first = await renderStep(track, blocks);
    const before = renderCacheStats();
    expect(await renderStep(track, blocks)).toBe(first);
    const after = renderCacheStats();
    expect(after.hits).toBe(before.hits + 1);
    expect(after.misses).toBe(before.misses);

    const edited: Step = { ...blocks, markdown: blocks.markdown.replace('kubectl get nodes', 'kubectl get pods') };
    const html = await renderStep(track, edited);
    expect(html).toContain('data-command="kubectl get pods"');
    expect(renderCacheStats().misses).toBe(after.misses + 1);
    // The edit replaced the step's entry rather than adding one.
    expect(renderCacheStats().entries).toBe(after.entries);
  });

  it('renders the real Welcome track with a Run button for kubectl version and kubectl get nodes', async () => {
    const { tracks } = await loadCatalog(path.join(here, '../../lessons'));
    const welcome = tracks.find((candidate) => candidate.id === 'welcome')!;
    const commands: string[] = [];
    for (const step of welcome.steps) {
      const document = parse(await renderStep(welcome, step));
      commands.push(...[...document.querySelectorAll<HTMLButtonElement>('button.code-run')].map((button) => button.dataset.command!));
    }
    expect(commands).toEqual(expect.arrayContaining(['kubectl version', 'kubectl get nodes']));
  });
});
