/**
 * The live mesh picture beside a step (front-matter `picture: mesh` / `split`): the topology of
 * the learner's cluster laid out by dagre and drawn in SVG, pods' ready and sidecar state, edges
 * labelled with request rate and 5xx share, and reviews' traffic split as a stacked bar. The
 * server pushes a fresh graph about once a second (`api/mesh/events`) while the panel is open.
 * The same numbers are in a table for screen readers, and split changes are announced politely,
 * at most every few seconds.
 */
import dagre from '@dagrejs/dagre';
import { h } from '../dom.js';
import { chosenSplit, edgeLabel, nodeLabel, percent, perSecond, podSummary, splitSentence, type MeshGraph, type MeshNode } from './mesh-model.js';

export type Picture = 'mesh' | 'split';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 136;
const NODE_H = 42;
/** Announcements of the split at most this often: a live region that talks every second is noise. */
const ANNOUNCE_EVERY_MS = 5000;

const svg = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (Node | string)[]) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
};

export class MeshPanel {
  readonly element: HTMLElement;
  private readonly status: HTMLElement;
  private readonly drawing: HTMLElement;
  private readonly split: HTMLElement;
  private readonly table: HTMLElement;
  private readonly live: HTMLElement;
  private source: EventSource | null = null;
  private lastAnnounced = 0;
  private announced = '';
  private pendingAnnounce: number | undefined;
  private layoutKey = '';
  private layout: InstanceType<typeof dagre.graphlib.Graph> | null = null;

  constructor(private readonly pictures: Picture[]) {
    this.status = h('p', { class: 'mesh-status', 'data-testid': 'mesh-status' }, 'Reading your cluster…');
    this.drawing = h('div', { class: 'mesh-drawing', 'aria-hidden': 'true', 'data-testid': 'mesh-drawing' });
    this.split = h('div', { class: 'mesh-split', 'aria-hidden': 'true', 'data-testid': 'mesh-split' });
    this.table = h('div', { class: 'visually-hidden', 'data-testid': 'mesh-text' });
    this.live = h('p', { class: 'visually-hidden', 'aria-live': 'polite', 'data-testid': 'mesh-live' });
    this.element = h(
      'section',
      { class: 'mesh-panel', 'aria-labelledby': 'mesh-panel-title', 'data-testid': 'mesh-panel' },
      h('h2', { id: 'mesh-panel-title', class: 'mesh-title' }, pictures.includes('mesh') ? 'Your mesh, live' : 'Traffic split, live'),
      this.status,
      pictures.includes('mesh') ? this.drawing : null,
      pictures.includes('split') ? this.split : null,
      this.table,
      this.live,
    );
  }

  start(): void {
    this.source = new EventSource('api/mesh/events');
    this.source.addEventListener('mesh', (event) => this.render(JSON.parse((event as MessageEvent<string>).data) as MeshGraph));
    this.source.addEventListener('error', (event) => {
      const data = (event as MessageEvent<string>).data;
      if (typeof data === 'string') this.status.textContent = `The picture cannot be read: ${(JSON.parse(data) as { error: string }).error}`;
    });
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    window.clearTimeout(this.pendingAnnounce);
  }

  private render(graph: MeshGraph): void {
    const workloads = graph.nodes.filter((n) => n.kind === 'workload' || n.kind === 'gateway');
    const traffic = graph.edges.filter((e) => e.traffic);
    this.status.textContent =
      workloads.length === 0
        ? 'No workloads in your cluster yet.'
        : `${workloads.length} workloads, ${traffic.length ? `traffic over the last ${Math.round(graph.windowSeconds)} s` : 'no traffic seen yet'}.${graph.problems.length ? ` ${graph.problems[0]}` : ''}`;
    if (this.pictures.includes('mesh')) this.drawTopology(graph);
    const split = chosenSplit(graph);
    if (this.pictures.includes('split')) this.drawSplit(split);
    this.renderText(graph);
    this.announce(splitSentence(split));
  }

  /** Layout runs again only when the set of nodes and edges changed; numbers update in place. */
  private drawTopology(graph: MeshGraph): void {
    if (graph.nodes.length === 0) {
      this.drawing.replaceChildren();
      this.layoutKey = '';
      return;
    }
    const key = JSON.stringify([graph.nodes.map((n) => n.id), graph.edges.map((e) => e.id)]);
    if (key !== this.layoutKey || !this.layout) {
      const g = new dagre.graphlib.Graph();
      g.setGraph({ rankdir: 'TB', nodesep: 14, ranksep: 44, marginx: 8, marginy: 8 });
      g.setDefaultEdgeLabel(() => ({}));
      for (const n of graph.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
      for (const e of graph.edges) g.setEdge(e.source, e.target, { width: 70, height: 14, labelpos: 'c' });
      dagre.layout(g);
      this.layout = g;
      this.layoutKey = key;
    }
    const g = this.layout;
    const { width = 0, height = 0 } = g.graph();
    const root = svg('svg', { viewBox: `0 0 ${Math.max(width, 1)} ${Math.max(height, 1)}`, width: Math.ceil(width), height: Math.ceil(height), class: 'mesh-svg', focusable: 'false' });
    const defs = svg('defs', {}, svg('marker', { id: 'mesh-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'mesh-arrowhead' })));
    root.append(defs);
    for (const e of graph.edges) {
      const laid = g.edge(e.source, e.target) as { points?: { x: number; y: number }[]; x?: number; y?: number } | undefined;
      if (!laid?.points?.length) continue;
      const d = laid.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      const cls = `mesh-edge${e.traffic && e.rate > 0 ? ' is-live' : ''}${e.errorShare ? ' has-errors' : ''}`;
      const group = svg('g', { class: cls, 'data-testid': 'mesh-edge', 'data-edge': e.id }, svg('path', { d, 'marker-end': 'url(#mesh-arrow)' }));
      const label = edgeLabel(e);
      if (label && laid.x !== undefined && laid.y !== undefined) group.append(svg('text', { x: laid.x, y: laid.y + 4, 'text-anchor': 'middle', class: 'mesh-edge-label' }, label));
      root.append(group);
    }
    for (const n of graph.nodes) {
      const laid = g.node(n.id) as { x: number; y: number } | undefined;
      if (!laid) continue;
      root.append(this.nodeShape(n, laid.x - NODE_W / 2, laid.y - NODE_H / 2));
    }
    this.drawing.replaceChildren(root);
  }

  private nodeShape(n: MeshNode, x: number, y: number): SVGGElement {
    const group = svg('g', { class: `mesh-node is-${n.kind}`, 'data-testid': 'mesh-node', 'data-node': n.id, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` });
    const shape = n.kind === 'service' ? svg('rect', { width: NODE_W, height: NODE_H, rx: NODE_H / 2 }) : svg('rect', { width: NODE_W, height: NODE_H, rx: 6 });
    const kind = n.kind === 'service' ? 'Service' : n.kind === 'gateway' ? 'gateway' : n.kind === 'unknown' ? '' : 'workload';
    group.append(shape, svg('text', { x: 10, y: 18, class: 'mesh-node-name' }, truncate(nodeLabel(n), 18)), svg('text', { x: 10, y: 32, class: 'mesh-node-kind' }, kind));
    // One dot per pod: filled when ready, ringed when it has a sidecar.
    n.pods.slice(0, 6).forEach((p, i) => {
      group.append(svg('circle', { cx: NODE_W - 12 - i * 13, cy: 29, r: 4.5, class: `mesh-pod${p.ready ? ' is-ready' : ''}${p.sidecar ? ' has-sidecar' : ''}`, 'data-testid': 'mesh-pod', 'data-ready': String(p.ready), 'data-sidecar': String(p.sidecar) }));
    });
    return group;
  }

  private drawSplit(split: ReturnType<typeof chosenSplit>): void {
    if (!split) {
      this.split.replaceChildren(h('p', { class: 'mesh-split-empty' }, 'No requests to a service with versions yet.'));
      return;
    }
    const bar = h('div', { class: 'mesh-split-bar' });
    split.versions.forEach((v, i) => {
      if (!v.share) return;
      bar.append(h('span', { class: `mesh-split-part tone-${i % 4}`, style: `width:${(v.share * 100).toFixed(1)}%`, 'data-version': v.version }, v.share >= 0.08 ? `${v.version} ${percent(v.share)}` : ''));
    });
    const legend = h('ul', { class: 'mesh-split-legend' }, ...split.versions.map((v, i) => h('li', { 'data-version': v.version }, h('span', { class: `mesh-swatch tone-${i % 4}` }), `${v.version}: ${percent(v.share)} (${perSecond(v.rate)})`)));
    this.split.replaceChildren(h('p', { class: 'mesh-split-title' }, `Which ${split.service} version answered (last ${split.requests} requests)`), split.requests ? bar : h('p', { class: 'mesh-split-empty' }, 'No requests in the last seconds.'), legend);
  }

  /** The same numbers as the drawing, for screen readers: nodes with pods, edges with rates, the split. */
  private renderText(graph: MeshGraph): void {
    const names = new Map(graph.nodes.map((n) => [n.id, nodeLabel(n)]));
    const rows = graph.edges.filter((e) => e.traffic);
    const split = chosenSplit(graph);
    this.table.replaceChildren(
      h('h3', {}, 'Workloads'),
      h('ul', {}, ...graph.nodes.filter((n) => n.kind !== 'service').map((n) => h('li', {}, `${n.kind === 'gateway' ? 'Gateway' : n.kind === 'unknown' ? 'Source' : 'Workload'} ${nodeLabel(n)}${n.pods.length ? `: ${podSummary(n)}` : ''}`))),
      h('table', {}, h('caption', {}, 'Requests between workloads and services'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'From'), h('th', { scope: 'col' }, 'To'), h('th', { scope: 'col' }, 'Rate'), h('th', { scope: 'col' }, 'Errors (5xx)'))),
        h('tbody', {}, ...(rows.length ? rows.map((e) => h('tr', { 'data-edge': e.id }, h('td', {}, names.get(e.source) ?? e.source), h('td', {}, names.get(e.target) ?? e.target), h('td', {}, perSecond(e.rate)), h('td', {}, percent(e.errorShare)))) : [h('tr', {}, h('td', { colspan: 4 }, 'No traffic seen yet.'))]))),
      ...(split ? [h('table', { 'data-testid': 'mesh-split-table' }, h('caption', {}, `${split.service}: which version answered`), h('tbody', {}, ...split.versions.map((v) => h('tr', { 'data-version': v.version }, h('th', { scope: 'row' }, v.version), h('td', {}, percent(v.share)), h('td', {}, perSecond(v.rate))))))] : []),
    );
  }

  private announce(sentence: string): void {
    if (sentence === this.announced) return;
    window.clearTimeout(this.pendingAnnounce);
    const wait = this.lastAnnounced + ANNOUNCE_EVERY_MS - Date.now();
    const say = () => {
      this.announced = sentence;
      this.lastAnnounced = Date.now();
      this.live.textContent = sentence;
    };
    if (wait <= 0) say();
    else this.pendingAnnounce = window.setTimeout(say, wait);
  }
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
