import { describe, expect, it } from 'vitest';
import { MemoryNetwork, deployBookinfo } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';
import { request } from '../../server/sim/images/http.js';
import type { ContainerBehaviour, ContainerContext, HttpResponse } from '../../server/sim/images/types.js';

const TAG = '1.20.3';
const img = (name: string) => `docker.io/istio/examples-bookinfo-${name}:${TAG}`;

/** Bookinfo with only the given reviews versions deployed, so a page's stars are deterministic. */
function bookinfo(reviewsVersions: string[] = ['v1', 'v2', 'v3'], overrides: Partial<Record<string, ContainerBehaviour>> = {}) {
  const net = new MemoryNetwork();
  for (const app of ['details', 'ratings', 'reviews', 'productpage']) net.addService(app, { app }, [{ port: 9080 }]);
  const pods: Record<string, ContainerContext> = {};
  const add = (app: string, version: string) => {
    pods[`${app}-${version}`] = net.addPod({
      name: `${app}-${version}-5d8f7c9b4-abcde`,
      image: img(`${app}-${version}`),
      labels: { app, version },
      containerName: app,
      behaviour: overrides[app],
    });
  };
  add('details', 'v1');
  add('ratings', 'v1');
  for (const v of reviewsVersions) add('reviews', v);
  add('productpage', 'v1');
  // A client pod to send requests from, as `kubectl exec` into a sleep pod would.
  const client = net.addPod({ name: 'sleep-7f9c8d6b5-xyz12', image: 'curlimages/curl:8.11.1', labels: { app: 'sleep' } });
  return { net, pods, client };
}

async function get(client: ContainerContext, host: string, path: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return client.net.request({ host, port: 9080 }, request('GET', path, headers));
}

const text = (r: HttpResponse) => r.body.toString('utf8');
const filledStars = (html: string) => (html.match(/id="glyphicon glyphicon-star"/g) ?? []).length;
const emptyStars = (html: string) => (html.match(/id="glyphicon glyphicon-star-empty"/g) ?? []).length;

describe('productpage page', () => {
  it('shows the title, the book, its details and who served the reviews', async () => {
    const { client } = bookinfo(['v1']);
    const res = await get(client, 'productpage', '/productpage');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = text(res);
    expect(html).toContain('<title>Simple Bookstore App</title>');
    expect(html).toContain('<h1>The Comedy of Errors</h1>');
    expect(html).toContain('Book Details');
    expect(html).toContain('<dt>ISBN-10:</dt><dd>1234567890</dd>');
    expect(html).toContain('<dt>Publisher:</dt><dd>PublisherA</dd>');
    expect(html).toContain('<dt>Pages:</dt><dd>200</dd>');
    expect(html).toContain('Reviewer1');
    expect(html).toContain('Reviewer2');
    expect(html).toContain('Reviews served by: reviews-v1-5d8f7c9b4-abcde');
    expect(html).toContain('Sign in');
    expect(html).toMatch(/<form method="post" action='login'/);
  });

  it('reviews v1 shows no stars, v2 black stars, v3 red stars (5 and 4 from ratings)', async () => {
    const v1 = text(await get(bookinfo(['v1']).client, 'productpage', '/productpage'));
    expect(filledStars(v1)).toBe(0);
    expect(emptyStars(v1)).toBe(0);

    const v2 = text(await get(bookinfo(['v2']).client, 'productpage', '/productpage'));
    expect(filledStars(v2)).toBe(9);
    expect(emptyStars(v2)).toBe(1);
    expect(v2).toContain('text-black-500');
    expect(v2).not.toContain('text-red-500"');
    expect(v2).toContain('Reviews served by: reviews-v2-');

    const v3 = text(await get(bookinfo(['v3']).client, 'productpage', '/productpage'));
    expect(filledStars(v3)).toBe(9);
    expect(v3).toContain('class="flex gap-x-1 text-red-500"');
  });

  it('spreads requests over all three reviews versions when all are deployed', async () => {
    const { client } = bookinfo();
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 3; i++) {
      const m = /Reviews served by: (reviews-v\d)/.exec(text(await get(client, 'productpage', '/productpage')));
      if (m) seen.add(m[1]);
    }
    expect([...seen].sort()).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3']);
  });

  it('the documented exec check prints the title', async () => {
    const { pods } = bookinfo();
    const r = await exec(pods['ratings-v1'], ['sh', '-c', 'curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"']);
    expect(r).toEqual({ code: 0, stdout: '<title>Simple Bookstore App</title>\n', stderr: '' });
  });
});

describe('sign in and header propagation', () => {
  it('POST /login sets a session cookie and redirects to the referer; the page then greets the user', async () => {
    const { client } = bookinfo(['v1']);
    const login = await client.net.request(
      { host: 'productpage', port: 9080 },
      request('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', referer: 'http://productpage:9080/productpage' }, 'username=jason&passwd=whatever'),
    );
    expect(login.status).toBe(302);
    expect(login.headers['location']).toBe('http://productpage:9080/productpage');
    const cookie = login.headers['set-cookie'];
    expect(cookie).toMatch(/^session=[^;]+; HttpOnly; Path=\/$/);
    const session = cookie.split(';')[0];
    const page = text(await get(client, 'productpage', '/productpage', { cookie: session }));
    expect(page).toContain('jason');
    expect(page).toContain('<a href="logout">Sign out</a>');
    expect(page).not.toContain('>Sign in</button>');

    const logout = await get(client, 'productpage', '/logout', { cookie: session, referer: 'http://productpage:9080/productpage' });
    expect(logout.status).toBe(302);
    expect(logout.headers['set-cookie']).toContain('session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0');
  });

  it('a forged session cookie is ignored (Flask verifies the signature)', async () => {
    const { client } = bookinfo(['v1']);
    const forged = Buffer.from('{"user":"jason"}').toString('base64url') + '.AAAA.bad';
    const page = text(await get(client, 'productpage', '/productpage', { cookie: `session=${forged}` }));
    expect(page).not.toContain('Sign out');
  });

  it('signed in as jason: end-user reaches details, reviews and (through reviews) ratings', async () => {
    const { net, client } = bookinfo(['v2']);
    const login = await client.net.request({ host: 'productpage', port: 9080 }, request('POST', '/login', { referer: '/' }, 'username=jason'));
    const cookie = login.headers['set-cookie'].split(';')[0];
    net.delivered.length = 0;
    await get(client, 'productpage', '/productpage', { cookie, 'x-request-id': 'req-123', 'x-b3-traceid': 'abcdef0123456789abcdef0123456789', 'x-b3-spanid': '1111111111111111', 'x-b3-sampled': '1' });
    const to = (prefix: string) => net.delivered.find((d) => d.to.startsWith(prefix))!.req.headers;
    for (const svc of ['details-v1', 'reviews-v2', 'ratings-v1']) {
      expect(to(svc)['end-user'], svc).toBe('jason');
      expect(to(svc)['x-request-id'], svc).toBe('req-123');
      expect(to(svc)['x-b3-traceid'], svc).toBe('abcdef0123456789abcdef0123456789');
    }
    // productpage opens a child span: the caller's span becomes the parent.
    expect(to('details-v1')['x-b3-parentspanid']).toBe('1111111111111111');
    expect(to('details-v1')['x-b3-spanid']).not.toBe('1111111111111111');
    expect(to('reviews-v2')['cookie']).toBe(cookie);
  });

  it('without a session no end-user header is sent', async () => {
    const { net, client } = bookinfo(['v2']);
    await get(client, 'productpage', '/productpage');
    const toReviews = net.delivered.find((d) => d.to.startsWith('reviews'))!;
    expect(toReviews.req.headers['end-user']).toBeUndefined();
  });
});

describe('JSON APIs', () => {
  it('productpage /api/v1/products lists the book as Python json.dumps writes it', async () => {
    const { client } = bookinfo(['v1']);
    const res = await get(client, 'productpage', '/api/v1/products');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(text(res)).toBe(
      '[{"id": 0, "title": "The Comedy of Errors", "descriptionHtml": "<a href=\\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play."}]',
    );
  });

  it('details, reviews and ratings through productpage and directly', async () => {
    const { client } = bookinfo(['v3']);
    expect(text(await get(client, 'details', '/details/0'))).toBe(
      '{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}',
    );
    expect(text(await get(client, 'productpage', '/api/v1/products/0'))).toBe(
      '{"id": 0, "author": "William Shakespeare", "year": 1595, "type": "paperback", "pages": 200, "publisher": "PublisherA", "language": "English", "ISBN-10": "1234567890", "ISBN-13": "123-1234567890"}',
    );
    expect(text(await get(client, 'ratings', '/ratings/0'))).toBe('{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}');
    expect(text(await get(client, 'productpage', '/api/v1/products/0/ratings'))).toBe('{"id": 0, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}');
    expect(text(await get(client, 'reviews', '/reviews/0'))).toBe(
      '{"id": "0","podname": "reviews-v3-5d8f7c9b4-abcde","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!", "rating": {"stars": 5, "color": "red"}},{  "reviewer": "Reviewer2",  "text": "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.", "rating": {"stars": 4, "color": "red"}}]}',
    );
    const viaPage = JSON.parse(text(await get(client, 'productpage', '/api/v1/products/0/reviews')));
    expect(viaPage.reviews[1].rating).toEqual({ stars: 4, color: 'red' });
  });

  it('health endpoints and bad ids answer as the real services do', async () => {
    const { client } = bookinfo(['v1']);
    expect(text(await get(client, 'productpage', '/health'))).toBe('Product page is healthy');
    expect(text(await get(client, 'details', '/health'))).toBe('{"status":"Details is healthy"}');
    expect(text(await get(client, 'ratings', '/health'))).toBe('{"status":"Ratings is healthy"}');
    const bad = await get(client, 'details', '/details/abc');
    expect(bad.status).toBe(400);
    expect(text(bad)).toBe('{"error":"please provide numeric product id"}');
    const viaPage = await get(client, 'productpage', '/api/v1/products/abc');
    expect(viaPage.status).toBe(400);
    expect(text(viaPage)).toBe('{"error": "Sorry, product details are currently unavailable for this book."}');
    const unknown = await get(client, 'productpage', '/nope');
    expect(unknown.status).toBe(404);
    expect(text(unknown)).toContain('<title>404 Not Found</title>');
    const getLogin = await get(client, 'productpage', '/login');
    expect(getLogin.status).toBe(405);
  });
});

describe('backend failures', () => {
  it('details down: the page still loads (200) with the error texts', async () => {
    const { net, client } = bookinfo(['v1']);
    net.setFault('details-v1-5d8f7c9b4-abcde', 'down');
    const res = await get(client, 'productpage', '/productpage');
    expect(res.status).toBe(200);
    expect(text(res)).toContain('Error fetching product details');
    expect(text(res)).toContain('Sorry, product details are currently unavailable for this book.');
    expect(text(res)).toContain('Reviews served by:');
    const api = await get(client, 'productpage', '/api/v1/products/0');
    expect(api.status).toBe(500);
    expect(text(api)).toBe('{"error": "Sorry, product details are currently unavailable for this book."}');
  });

  it('reviews answering 503: productpage tries twice, then shows the reviews error with the backend status on the API', async () => {
    let calls = 0;
    const failing: ContainerBehaviour = {
      ports: [9080],
      serve: async () => {
        calls++;
        return { status: 503, headers: { 'content-length': '0' }, body: Buffer.alloc(0) };
      },
    };
    const { client } = bookinfo(['v1'], { reviews: failing });
    const page = text(await get(client, 'productpage', '/productpage'));
    expect(calls).toBe(2);
    expect(page).toContain('Error fetching product reviews');
    expect(page).toContain('Sorry, product reviews are currently unavailable for this book.');
    expect(page).toContain('<dt>ISBN-10:</dt>');
    const api = await get(client, 'productpage', '/api/v1/products/0/reviews');
    expect(api.status).toBe(503);
    expect(text(api)).toBe('{"error": "Sorry, product reviews are currently unavailable for this book."}');
  });

  it('ratings down: v2 reviews carry the ratings error, and the page says so', async () => {
    const { net, client } = bookinfo(['v2']);
    net.setFault('ratings-v1-5d8f7c9b4-abcde', 'down');
    const json = text(await get(client, 'reviews', '/reviews/0'));
    expect(json).toContain(', "rating": {"error": "Ratings service is currently unavailable"}}');
    const page = text(await get(client, 'productpage', '/productpage'));
    expect(page).toContain('Ratings service is currently unavailable');
    expect(filledStars(page)).toBe(0);
    const api = await get(client, 'productpage', '/api/v1/products/0/ratings');
    expect(api.status).toBe(500);
    expect(text(api)).toBe('{"error": "Sorry, product ratings are currently unavailable for this book."}');
  });

  it('ratings hanging: reviews v3 gives up after its 2.5 s timeout', async () => {
    const { net, client } = bookinfo(['v3']);
    net.setFault('ratings-v1-5d8f7c9b4-abcde', 'hang');
    const start = Date.now();
    const json = text(await get(client, 'reviews', '/reviews/0'));
    const took = Date.now() - start;
    expect(json).toContain('Ratings service is currently unavailable');
    expect(took).toBeGreaterThanOrEqual(2400);
    // Ratings never answers: only the timeout ends it (the bound is room for a loaded machine).
    expect(took).toBeLessThan(6000);
  });
});

describe('logs', () => {
  it('services log startup lines and access lines in their own formats', async () => {
    const { net, client } = bookinfo(['v1']);
    await get(client, 'productpage', '/productpage');
    const details = net.logs.get('details-v1-5d8f7c9b4-abcde')!;
    expect(details[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO  WEBrick 1\.8\.1$/);
    expect(details.some((l) => /^10\.244\.1\.\d+ - - \[.+ UTC\] "GET \/details\/0 HTTP\/1\.1" 200 178$/.test(l))).toBe(true);
    const pp = net.logs.get('productpage-v1-5d8f7c9b4-abcde')!;
    expect(pp.some((l) => l.includes('[INFO] Listening at: http://[::]:9080 (1)'))).toBe(true);
    expect(pp).toContain('DEBUG:urllib3.connectionpool:http://details:9080 "GET /details/0 HTTP/1.1" 200 178');
    expect(net.logs.get('ratings-v1-5d8f7c9b4-abcde')).toEqual(['Server listening on: http://0.0.0.0:9080']);
    expect(net.logs.get('reviews-v1-5d8f7c9b4-abcde')!.some((l) => l.includes('CWWKF0011I'))).toBe(true);
  });
});

describe('deployBookinfo helper', () => {
  it('deploys the six pods of bookinfo.yaml', () => {
    const pods = deployBookinfo(new MemoryNetwork());
    expect(Object.keys(pods).sort()).toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  });
});
