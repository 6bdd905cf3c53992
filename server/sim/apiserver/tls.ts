/**
 * A per-cluster CA and serving certificate. kubectl (client-go) only sends bearer tokens over
 * TLS, so the API server speaks HTTPS as kube-apiserver does. The certificates are built with
 * a small DER encoder over node:crypto (EC P-256 keys, a few milliseconds of the cold start).
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

export interface ServingCert {
  /** PEM of the CA that signed the serving certificate (for certificate-authority-data). */
  caPem: string;
  certPem: string;
  keyPem: string;
}

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
/** A DER INTEGER must be minimal: no leading zero byte unless the next byte's high bit is set. */
function integer(b: Buffer): Buffer {
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  const minimal = b.subarray(start);
  return tlv(0x02, minimal[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s));
}
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function ipBytes(ip: string): Buffer | undefined {
  const parts = ip.split('.').map(Number);
  return parts.length === 4 && parts.every((n) => Number.isInteger(n) && n >= 0 && n < 256) ? Buffer.from(parts) : undefined;
}

function certificate(opts: { subject: string; issuer: string; publicKey: KeyObject; signer: KeyObject; ca: boolean; hosts?: string[] }): string {
  const now = Date.now();
  const extensions: Buffer[] = [
    ext('2.5.29.19', true, opts.ca ? seq(bool(true)) : seq()),
    // keyUsage: CA = digitalSignature|keyCertSign|cRLSign; leaf = digitalSignature|keyEncipherment.
    ext('2.5.29.15', true, opts.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0xa0]), 5)),
  ];
  if (!opts.ca) {
    extensions.push(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
    const names = (opts.hosts ?? []).map((h) => {
      const ip = ipBytes(h);
      return ip ? tlv(0x87, ip) : tlv(0x82, Buffer.from(h, 'ascii'));
    });
    extensions.push(ext('2.5.29.17', false, seq(...names)));
  }
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(randomBytes(12)),
    ECDSA_SHA256,
    name(opts.issuer),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 24 * 3600_000))),
    name(opts.subject),
    opts.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, opts.signer);
  const der = seq(tbs, ECDSA_SHA256, bits(signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export function createServingCert(hosts: string[]): ServingCert {
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caPem = certificate({ subject: 'kubernetes-ca', issuer: 'kubernetes-ca', publicKey: ca.publicKey, signer: ca.privateKey, ca: true });
  const allHosts = [...new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', '127.0.0.1', ...hosts])];
  const certPem = certificate({ subject: 'kube-apiserver', issuer: 'kubernetes-ca', publicKey: leaf.publicKey, signer: ca.privateKey, ca: false, hosts: allHosts });
  // Parse both back so a malformed certificate fails here rather than in a client.
  const caCert = new X509Certificate(caPem);
  if (!new X509Certificate(certPem).verify(caCert.publicKey)) throw new Error('serving certificate does not verify against its CA');
  return { caPem, certPem, keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
