import { describe, expect, it } from 'vitest';
import { bodyInWords } from '../../server/checks/kinds/http.js';

describe('an HTTP answer told in words', () => {
  it("gives a Kubernetes Status' message, not its JSON", () => {
    const status = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "web" not found', reason: 'NotFound', details: { name: 'web', kind: 'services' }, code: 404 });
    expect(bodyInWords(status)).toBe('services "web" not found');
    expect(bodyInWords('{"kind":"Status","message":')).toBe('');
  });

  it("names an HTML page by its title and cuts long text at a word", () => {
    expect(bodyInWords('<html><head><title>Welcome to nginx!</title></head><body>…</body></html>')).toBe('a page titled “Welcome to nginx!”');
    const long = bodyInWords(`no healthy upstream ${'word '.repeat(60)}`);
    expect(long.endsWith('word…')).toBe(true);
    expect(long.length).toBeLessThanOrEqual(121);
    expect(bodyInWords('no healthy upstream')).toBe('no healthy upstream');
  });
});
