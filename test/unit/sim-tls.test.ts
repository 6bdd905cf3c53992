import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createServingCert } from '../../server/sim/apiserver/tls.js';

describe('serving certificates', () => {
  it('are valid DER every time (random serial numbers with leading zero bytes encode minimally)', () => {
    // Each call has two random serials; about 1 in 256 starts with a zero byte, which OpenSSL
    // refuses as "illegal padding" unless it is stripped: 400 calls would hit it almost surely.
    for (let i = 0; i < 400; i++) {
      const cert = createServingCert(['127.0.0.1']);
      const ca = new X509Certificate(cert.caPem);
      const leaf = new X509Certificate(cert.certPem);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    }
  });
});
