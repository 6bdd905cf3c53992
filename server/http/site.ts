/**
 * Which addresses this server answers for. Two checks, both independent of what a request claims:
 *
 * - Host: a page on a DNS name the attacker controls can be re-pointed at this server (DNS
 *   rebinding); its requests then carry that name in Host. We answer only for IP literals and
 *   `localhost` (which no DNS answer can re-point) and the configured public origins' hosts.
 * - Origin: the page opening a WebSocket or writing through the API must have been served from one
 *   of our own origins: the listening address's, or a configured public origin (a reverse proxy's).
 *   The Host header is never the source of that list.
 */
import net from 'node:net';
import os from 'node:os';

export interface SiteOptions {
  /** The listen address as configured (`127.0.0.1`, `0.0.0.0`, `::`, a name, …). */
  listenHost: string;
  port: number;
  /** Origins the playground is published at, e.g. `https://lab.example.org` behind a proxy. */
  publicOrigins: string[];
  /**
   * Hosts (`name:port`) other replicas reach this one by (its advertised URL's): answered like a
   * public origin's host, but no page is ever served from them, so they are no origin of ours.
   */
  internalHosts?: string[];
  /** For tests; defaults to this machine's interfaces. */
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

export class Site {
  /** Every origin a page of ours can have, exactly (scheme, host, port). */
  readonly origins: ReadonlySet<string>;
  private readonly publicHosts: ReadonlySet<string>;

  constructor(options: SiteOptions) {
    const { listenHost, port } = options;
    const hosts = new Set<string>();
    if (listenHost === '0.0.0.0' || listenHost === '::') {
      for (const h of LOOPBACK) hosts.add(h);
      for (const address of interfaceAddresses(options.interfaces ?? os.networkInterfaces())) hosts.add(address);
    } else {
      hosts.add(net.isIPv6(listenHost) ? `[${listenHost}]` : listenHost.toLowerCase());
      if (isLoopback(listenHost)) for (const h of LOOPBACK) hosts.add(h);
    }
    const publicOrigins = options.publicOrigins.map((o) => new URL(o).origin);
    this.origins = new Set([...[...hosts].map((h) => `http://${h}:${port}`), ...publicOrigins]);
    // A listen address given as a name is one we were told to answer for, like a public origin.
    const named = net.isIP(listenHost) || isLoopback(listenHost) ? [] : [`${listenHost.toLowerCase()}:${port}`];
    this.publicHosts = new Set([...publicOrigins.map((o) => new URL(o).host), ...named, ...(options.internalHosts ?? []).map((h) => h.toLowerCase())]);
  }

  /** True when a browser could only have sent this Host for us, never for a rebound name. */
  isAllowedHost(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const host = hostHeader.toLowerCase();
    if (this.publicHosts.has(host)) return true;
    const name = hostName(host);
    if (name === undefined) return false;
    return name === 'localhost' || net.isIP(name) !== 0;
  }

  /** Browsers always send Origin on WebSocket handshakes and cross-origin writes; it must be ours. */
  isAllowedOrigin(origin: string): boolean {
    return this.origins.has(origin.toLowerCase());
  }

  /** What to tell someone refused for their Host: how to make that address work. */
  hostRefusal(hostHeader: string | undefined): string {
    return `this playground does not answer for host ${JSON.stringify(hostHeader ?? '')}: open it by its IP address or localhost, or add the address to --public-origin (PLAYGROUND_PUBLIC_ORIGIN)`;
  }
}

/** `name` from `name:port`, `name` or `[v6]:port`; undefined when the header is malformed. */
function hostName(host: string): string | undefined {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    const v6 = host.slice(1, end);
    return net.isIPv6(v6) ? v6 : undefined;
  }
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(host);
  return m?.[1];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The machine's own addresses, as they appear in a URL; link-local IPv6 needs a zone, which URLs cannot carry. */
function interfaceAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4') out.push(info.address);
      else if (!info.address.toLowerCase().startsWith('fe80:') && !info.scopeid) out.push(`[${info.address}]`);
    }
  }
  return out;
}

/**
 * The Location for a redirect back to `rawPath` on this site. Browsers read `//x`, `/\x` and
 * `\\x` as another host and drop tabs and newlines before reading, so: slashes and backslashes
 * collapse to one `/`, and every character outside a path's plain set is percent-encoded.
 */
export function onSitePath(rawPath: string): string {
  const segments = rawPath.split(/[\\/]+/).filter(Boolean);
  const trailing = segments.length > 0 && /[\\/]$/.test(rawPath) ? '/' : '';
  const joined = `/${segments.join('/')}${trailing}`;
  return joined.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@%/]/g, (c) =>
    Array.from(Buffer.from(c, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
