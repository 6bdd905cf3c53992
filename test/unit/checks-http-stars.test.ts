/**
 * Sampled traffic checks as the Istio tracks use them: requests to the ingress gateway through the
 * API server's service proxy, each page classified by the stars it shows (none / black / red),
 * judged against binomial bounds, signed in as jason through productpage's `session` cookie.
 * The "API server" is a fake on loopback serving productpage-shaped pages in a split the test
 * chooses, so a wrong split, a missing cookie and a broken page must each fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kubeconfig } from '../../server/cluster/kubeconfig.js';
import { createCheckContext } from '../../server/checks/context.js';
import { evaluateCheck, type CheckContext } from '../../server/checks/kinds/index.js';
import { parseCheck } from '../../server/checks/schema.js';

const PROXY = '/api/v1/namespaces/istio-system/services/istio-ingressgateway:http2/proxy';
const SESSION = 'session=eyJ1c2VyIjoiamFzb24ifQ.Z1.sig';

/** A page as productpage renders it: the stylesheet always names text-red-500, the reviews only when v3 served them. */
function page(version: 'v1' | 'v2' | 'v3' | 'broken'): string {
  const css = '<style>.text-red-500 { color: #ef4444; }</style>';
  if (version === 'broken') return `${css}<h4>Error fetching product reviews</h4><p>Sorry, product reviews are currently unavailable for this book.</p>`;
  const stars = version === 'v1' ? '' : `<div class="flex gap-x-1 text-${version === 'v2' ? 'black' : 'red'}-500"><svg class="star"></svg></div>`;
  return `<title>Simple Bookstore App</title>${css}<blockquote>${stars}<p class="served-by">Reviews served by: reviews-${version}-6b9f</p></blockquote>`;
}

let server: http.Server;
let ctx: CheckContext;
/** What anonymous requests get next, cycled in order: a deterministic stand-in for a weighted split. */
let anonymous: ('v1' | 'v2' | 'v3' | 'broken')[] = [];
let served = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === `${PROXY}/login`) {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const ok = new URLSearchParams(body).get('username') === 'jason';
        res.writeHead(302, { location: '/productpage', ...(ok ? { 'set-cookie': `${SESSION}; HttpOnly; Path=/` } : {}) }).end();
      });
      return;
    }
    if (req.url === `${PROXY}/productpage`) {
      const jason = (req.headers.cookie ?? '').split('; ').includes(SESSION);
      const version = jason ? 'v2' : anonymous[served++ % anonymous.length]!;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(version));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const kc = new Kubeconfig();
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } }],
      users: [{ name: 'fake', user: { token: 't' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    }),
  );
  ctx = createCheckContext({ kc, shell: { cwd: '/', env: {} } });
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const STARS = { regex: 'gap-x-1 text-(black|red)-500', otherwise: 'none' };
const sampled = (extra: object) => {
  const parsed = parseCheck({ title: 't', http: { gateway: true, path: '/productpage', samples: 200, key: STARS, expect: { status: 200, bodyContains: 'Reviews served by' }, ...extra } });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.check;
};
const split = (parts: Record<'v1' | 'v2' | 'v3' | 'broken', number>) => {
  anonymous = Object.entries(parts).flatMap(([v, n]) => Array<'v1'>(n).fill(v as 'v1'));
  served = 0;
};

describe('sampled checks by the stars a page shows', () => {
  it('pass a 50/50 canary of v1 and v3, not fooled by the stylesheet naming text-red-500', async () => {
    split({ v1: 1, v2: 0, v3: 1, broken: 0 });
    expect(await evaluateCheck(sampled({ shares: { none: 0.5, red: 0.5 } }), ctx)).toEqual({
      passed: true,
      found: '200 requests to the ingress gateway/productpage: none 50%, red 50% (expected none 50%, red 50%)',
    });
  });

  it('fail an 80/20 split judged as 50/50, saying what was seen', async () => {
    split({ v1: 4, v2: 0, v3: 1, broken: 0 });
    const verdict = await evaluateCheck(sampled({ shares: { none: 0.5, red: 0.5 } }), ctx);
    expect(verdict.passed).toBe(false);
    expect(verdict.found).toMatch(/^\d+ of 200 requests to the ingress gateway\/productpage already rule out the expected split: none 8\d%, red 2\d%; expected none 50%, red 50%$/);
    // Decided before the 200th request: more than ~129 pages without stars cannot be 50/50.
    expect(served).toBeGreaterThan(129);
    expect(served).toBeLessThan(200);
  });

  it('fail "every page red" when one page in fifty has no stars', async () => {
    split({ v1: 1, v2: 0, v3: 49, broken: 0 });
    expect(await evaluateCheck(sampled({ samples: 50, shares: { red: 1 } }), ctx)).toMatchObject({ passed: false });
  });

  it('fail when the reviews are missing from a page, rather than counting it as "no stars"', async () => {
    split({ v1: 9, v2: 0, v3: 0, broken: 1 });
    const verdict = await evaluateCheck(sampled({ samples: 20, shares: { none: 1 } }), ctx);
    expect(verdict.passed).toBe(false);
    expect(verdict.found).toBe('request 10 of 20 failed: the ingress gateway/productpage answered HTTP 200 but the body does not contain "Reviews served by"');
  });

  it('sign in as jason with productpage\'s session cookie, and only then see black stars', async () => {
    split({ v1: 1, v2: 0, v3: 0, broken: 0 });
    expect(await evaluateCheck(sampled({ samples: 30, signedInAs: 'jason', shares: { black: 1 } }), ctx)).toMatchObject({ passed: true });
    expect(await evaluateCheck(sampled({ samples: 30, shares: { black: 1 } }), ctx)).toEqual({
      passed: false,
      found: '1 of 30 requests to the ingress gateway/productpage already rule out the expected split: none 100%; expected black 100%',
    });
  });

  it('report a sign-in that sets no cookie', async () => {
    const verdict = await evaluateCheck(sampled({ samples: 10, signedInAs: 'mallory', shares: { black: 1 } }), ctx);
    expect(verdict).toEqual({ passed: false, found: 'signing in as mallory through the ingress gateway gave no session cookie (HTTP 302)' });
  });
});
