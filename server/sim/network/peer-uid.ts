/**
 * Who is on the other end of a loopback TCP connection: learners' shells share the host's network
 * namespace, so anything a cluster listens on (NodePorts on its node addresses) is reachable by
 * every learner. When each learner has a uid of their own, the kernel knows whose process opened
 * the client socket: /proc/net/tcp lists it, its local address being our accepted socket's remote one.
 */
import fs from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import net from 'node:net';

/** Passed from the server (which knows the learners' uids) to a learner's cluster process. */
export interface PeerGuard {
  /** The uid of this cluster's learner: their own shell may connect. */
  ownerUid: number;
  /** Every learner's uid is in this range (inclusive); a peer in it other than ownerUid is refused. */
  learnerUids: { min: number; max: number };
  /** Where tcp and tcp6 are read from (tests); default /proc/net. */
  procNet?: string;
}

/** /proc/net/tcp's form of an IPv4 address and port, e.g. 127.0.0.1:8080 → 0100007F:1F90 (on little-endian hosts). */
function hex4(ip: string): string | undefined {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
  const ordered = endianness() === 'LE' ? [...octets].reverse() : octets;
  return ordered.map((o) => o.toString(16).padStart(2, '0')).join('').toUpperCase();
}

function hexPort(port: number): string {
  return port.toString(16).padStart(4, '0').toUpperCase();
}

/**
 * The uid column of the entry whose local and remote ends are these, read chunk by chunk and no
 * further than that entry: the kernel renders the table as it is read, ~8 µs a line, and a busy
 * machine lists thousands of sockets.
 */
async function find(file: string, local: string, remote: string): Promise<number | undefined> {
  const needle = ` ${local} ${remote} `;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    let carry = '';
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return undefined;
      const text = carry + buf.toString('latin1', 0, bytesRead);
      const at = text.indexOf(needle);
      const end = at < 0 ? -1 : text.indexOf('\n', at);
      if (at >= 0 && end >= 0) {
        const uid = Number(text.slice(at, end).trim().split(/\s+/)[6]);
        return Number.isInteger(uid) ? uid : undefined;
      }
      // Keep the unfinished last line for the next chunk.
      carry = text.slice(at >= 0 ? text.lastIndexOf('\n', at) + 1 : text.lastIndexOf('\n') + 1);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The uid owning the client end of an accepted connection (our socket's remote address is its
 * local one), or undefined when no such socket is listed (the client already closed it).
 */
export async function peerUid(socket: net.Socket, procNet = '/proc/net'): Promise<number | undefined> {
  const strip = (a: string | undefined) => (a?.startsWith('::ffff:') ? a.slice(7) : a) ?? '';
  const clientIp = hex4(strip(socket.remoteAddress));
  const serverIp = hex4(strip(socket.localAddress));
  if (!clientIp || !serverIp || socket.remotePort === undefined || socket.localPort === undefined) return undefined;
  const client = `${clientIp}:${hexPort(socket.remotePort)}`;
  const server = `${serverIp}:${hexPort(socket.localPort)}`;
  const found = await find(path.join(procNet, 'tcp'), client, server);
  if (found !== undefined) return found;
  // A client may reach an IPv4 listener from an IPv6 socket, through an IPv4-mapped address.
  const mapped = (h: string) => `0000000000000000${endianness() === 'LE' ? 'FFFF0000' : '0000FFFF'}${h}`;
  return find(path.join(procNet, 'tcp6'), `${mapped(clientIp)}:${hexPort(socket.remotePort)}`, `${mapped(serverIp)}:${hexPort(socket.localPort)}`);
}

/**
 * Whether the guard lets a peer with this uid in: anyone outside the learners' range (root — the
 * server and its checks —, a browser's user), and the cluster's own learner. A peer that cannot be
 * identified is refused: its socket is already gone, or it hides in a way we cannot see.
 */
export function admits(guard: PeerGuard, uid: number | undefined): boolean {
  if (uid === undefined) return false;
  if (uid === guard.ownerUid) return true;
  return uid < guard.learnerUids.min || uid > guard.learnerUids.max;
}

/**
 * A TCP server in front of `inner` (an http.Server that never listens itself): each accepted
 * connection is handed on only if the guard admits its peer, and reset otherwise, before a byte
 * of it is read.
 */
export function guardedServer(inner: net.Server, guard: PeerGuard): net.Server {
  return net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {});
    void peerUid(socket, guard.procNet).then(
      (uid) => {
        if (socket.destroyed) return;
        if (!admits(guard, uid)) return void socket.resetAndDestroy();
        inner.emit('connection', socket);
        socket.resume();
      },
      () => socket.resetAndDestroy(),
    );
  });
}
