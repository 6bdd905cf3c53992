/**
 * Bookinfo with sidecars, driven as a learner drives it (real kubectl, our istioctl, curl inside
 * the pods, the release's samples applied unchanged): every hop passes the sidecars, the
 * networking samples route as istio.io documents, and the proxies' access logs show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedCluster } from '../../server/sim/cluster.js';
import { bash, istioWorkdir, type Run } from '../helpers/istio-workdir.js';


const cluster = await EmbeddedCluster.start({ workloads: true });

let dir: string;
let env: Record<string, string>;

const sh = (script: string, input?: string): Promise<Run> => bash(script, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });

const NET = 'samples/bookinfo/networking';
/** samples/bookinfo/networking/virtual-service-ratings-test-{abort,delay}.yaml: a fault for end-user jason. */
const ratingsFault = (fault: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      ${fault}
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;
const pod = async (app: string, version?: string) => (await sh(`kubectl get pod -l app=${app}${version ? `,version=${version}` : ''} -o jsonpath='{.items[0].metadata.name}'`)).stdout;
const podIP = async (name: string) => (await sh(`kubectl get pod ${name} -o jsonpath='{.status.podIP}'`)).stdout;
const proxyLog = async (name: string) => (await sh(`kubectl logs ${name} -c istio-proxy`)).stdout.split('\n').filter((l) => l.startsWith('['));
/** curl from the ratings pod's app container (the request leaves through its sidecar). */
const curlFromRatings = async (args: string) => sh(`kubectl exec "$(kubectl get pod -l app=ratings -o jsonpath='{.items[0].metadata.name}')" -c ratings -- curl -sS ${args}`);

beforeAll(async () => {
  ({ dir, env } = await istioWorkdir('istio-envoy-', cluster));
  const install = await sh('istioctl install --set profile=demo -y && kubectl wait --for=condition=Ready pod --all -n istio-system --timeout=60s');
  expect(install.code, install.stderr).toBe(0);
  const app = await sh('kubectl label namespace default istio-injection=enabled && kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml && kubectl wait --for=condition=Ready pod --all --timeout=90s');
  expect(app.code, app.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await cluster.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Bookinfo through the sidecars', () => {
  it('productpage → details, reviews → ratings: every hop in both proxies\' access logs', async () => {
    const page = await curlFromRatings('productpage:9080/productpage');
    expect(page.stderr).toBe('');
    expect(page.stdout).toContain('<title>Simple Bookstore App</title>');
    expect(page.stdout).toContain('Reviewer1');

    const [pp, ratings, details] = [await pod('productpage'), await pod('ratings'), await pod('details')];
    const [ppIP, ratingsIP, detailsIP] = [await podIP(pp), await podIP(ratings), await podIP(details)];
    const ppSvcIP = (await sh(`kubectl get svc productpage -o jsonpath='{.spec.clusterIP}'`)).stdout;

    // ratings' sidecar: outbound to productpage (auto mTLS), Envoy's default route.
    const out = (await proxyLog(ratings)).find((l) => l.includes('"GET /productpage HTTP/1.1"'));
    expect(out).toMatch(
      new RegExp(
        `^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] "GET /productpage HTTP/1.1" 200 - via_upstream - "-" 0 \\d+ \\d+ \\d+ "-" "curl/[^"]+" "[0-9a-f-]{36}" "productpage:9080" "${ppIP}:9080" outbound\\|9080\\|\\|productpage.default.svc.cluster.local ${ratingsIP}:\\d+ ${ppSvcIP}:9080 ${ratingsIP}:\\d+ - default$`,
      ),
    );
    // productpage's sidecar: the same request inbound, over mTLS, to the app from 127.0.0.6.
    const ppLog = await proxyLog(pp);
    const requestId = /"([0-9a-f-]{36})" "productpage:9080"/.exec(out!)![1]!;
    const inbound = ppLog.find((l) => l.includes(requestId) && l.includes('inbound|9080||'));
    expect(inbound).toMatch(
      new RegExp(`"GET /productpage HTTP/1.1" 200 - via_upstream - "-" 0 \\d+ \\d+ \\d+ "-" "curl/[^"]+" "${requestId}" "productpage:9080" "${ppIP}:9080" inbound\\|9080\\|\\| 127\\.0\\.0\\.6:\\d+ ${ppIP}:9080 ${ratingsIP}:\\d+ outbound_\\.9080_\\._\\.productpage\\.default\\.svc\\.cluster\\.local default$`),
    );
    // productpage's own calls leave through its sidecar too.
    expect(ppLog.some((l) => /"GET \/details\/0 HTTP\/1.1" 200 - via_upstream .* outbound\|9080\|\|details\.default\.svc\.cluster\.local .* default$/.test(l))).toBe(true);
    expect(ppLog.some((l) => /"GET \/reviews\/0 HTTP\/1.1" 200 - via_upstream .* outbound\|9080\|\|reviews\.default\.svc\.cluster\.local /.test(l))).toBe(true);
    expect((await proxyLog(details)).some((l) => l.includes('"GET /details/0 HTTP/1.1" 200') && l.includes(`"${detailsIP}:9080" inbound|9080||`))).toBe(true);
  }, 60_000);

  it('headers: the app behind a sidecar sees the client certificate and request id, not the proxies\' own; the meshed caller gets server: envoy', async () => {
    const a = await sh('kubectl apply -f samples/httpbin/httpbin.yaml && kubectl wait --for=condition=Ready pod -l app=httpbin --timeout=60s');
    expect(a.code, a.stderr).toBe(0);
    const r = await curlFromRatings('-i httpbin:8000/headers');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^HTTP\/1.1 200 OK\r?$/m);
    expect(r.stdout).toMatch(/^server: envoy\r?$/im);
    expect(r.stdout).toMatch(/^x-envoy-upstream-service-time: \d+\r?$/im);
    const body = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { headers: Record<string, string[]> };
    const h = Object.fromEntries(Object.entries(body.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(h['x-forwarded-client-cert']?.[0]).toMatch(/^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/httpbin;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-ratings$/);
    expect(h['x-envoy-attempt-count']).toEqual(['1']);
    expect(h['x-forwarded-proto']).toEqual(['http']);
    expect(h['x-request-id']?.[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(h['x-envoy-peer-metadata']).toBeUndefined();
    expect(h['x-envoy-decorator-operation']).toBeUndefined();
  }, 90_000);

  it('a client outside the mesh: server: istio-envoy and the decorator on the response; the mesh client\'s unknown address passes through', async () => {
    const a = await sh('kubectl create namespace legacy && kubectl apply -n legacy -f samples/curl/curl.yaml && kubectl run web -n legacy --image=nginx && kubectl wait --for=condition=Ready pod --all -n legacy --timeout=60s');
    expect(a.code, a.stderr).toBe(0);
    const r = await sh(`kubectl exec -n legacy deploy/curl -- curl -sS -o /dev/null -D - productpage.default:9080/productpage`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^server: istio-envoy\r?$/im);
    expect(r.stdout).toMatch(/^x-envoy-decorator-operation: productpage\.default\.svc\.cluster\.local:9080\/\*\r?$/im);
    // No Service in the mesh has this address: port 80's listener (the ingress gateway's Service
    // port) routes it by the catch-all `allow_any` virtual host to PassthroughCluster, unchanged.
    const webIP = (await sh(`kubectl get pod web -n legacy -o jsonpath='{.status.podIP}'`)).stdout;
    const out = await curlFromRatings(`-o /dev/null -w '%{http_code}' ${webIP}/`);
    expect(out.stdout).toBe('200');
    const ratings = await pod('ratings');
    const ip = (await podIP(ratings)).replace(/\./g, '\\.');
    const web = webIP.replace(/\./g, '\\.');
    const line = (await proxyLog(ratings)).find((l) => l.includes(`"${webIP}:80"`));
    expect(line).toMatch(new RegExp(`"GET / HTTP/1\\.1" 200 - via_upstream - "-" 0 \\d+ \\d+ \\d+ "-" "curl/[^"]+" "[0-9a-f-]{36}" "${web}" "${web}:80" PassthroughCluster ${ip}:\\d+ ${web}:80 ${ip}:\\d+ - allow_any$`));
  }, 90_000);

  it('virtual-service-all-v1 with destination-rule-all: reviews v1 only (no stars), on the subset cluster', async () => {
    const a = await sh(`kubectl apply -f ${NET}/destination-rule-all.yaml && kubectl apply -f ${NET}/virtual-service-all-v1.yaml`);
    expect(a.code, a.stderr).toBe(0);
    const pp = await pod('productpage');
    // The push is asynchronous: poll the page until the config is in (bounded).
    let page = '';
    for (let i = 0; i < 20; i++) {
      page = (await curlFromRatings('productpage:9080/productpage')).stdout;
      const last = (await proxyLog(pp)).filter((l) => l.includes('"GET /reviews/0')).pop() ?? '';
      if (last.includes('outbound|9080|v1|reviews.default.svc.cluster.local')) break;
    }
    for (let i = 0; i < 10; i++) {
      page = (await curlFromRatings('productpage:9080/productpage')).stdout;
      expect(page).not.toMatch(/gap-x-1 text-(black|red)-500/);
      expect(page).toContain('Reviews served by: reviews-v1-');
    }
    const last = (await proxyLog(pp)).filter((l) => l.includes('"GET /reviews/0')).pop();
    // The VirtualService's http route has no name: `-` as %ROUTE_NAME%.
    expect(last).toMatch(/ outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local .* -$/);
  }, 120_000);

  it('virtual-service-reviews-50-v3: reviews v1 and v3 about half each (binomial bounds), chosen per request', async () => {
    expect((await sh(`kubectl apply -f ${NET}/virtual-service-reviews-50-v3.yaml`)).code).toBe(0);
    const n = 200;
    const count = async () => {
      const r = await sh(`kubectl exec "$(kubectl get pod -l app=ratings -o jsonpath='{.items[0].metadata.name}')" -c ratings -- sh -c 'for i in $(seq 1 ${n}); do curl -s reviews:9080/reviews/0; echo; done'`);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n').filter((l) => l.includes('"podname"'));
      expect(lines).toHaveLength(n);
      return lines.filter((l) => l.includes('reviews-v3-')).length;
    };
    // The push is asynchronous: the first batch may still be all v1 (bounded retry).
    let v3 = await count();
    if (v3 === 0) v3 = await count();
    expect(Math.abs(v3 - n / 2)).toBeLessThan(4.5 * Math.sqrt(n * 0.25));
    expect((await sh(`kubectl apply -f ${NET}/virtual-service-all-v1.yaml`)).code).toBe(0);
  }, 120_000);

  it('end-user jason goes to reviews v2 (black stars); then the ratings abort fault shows "Ratings service is currently unavailable"', async () => {
    const a = await sh(`kubectl apply -f ${NET}/virtual-service-reviews-test-v2.yaml`);
    expect(a.code, a.stderr).toBe(0);
    const login = await curlFromRatings("-c /tmp/jar -o /dev/null -w '%{http_code}' -d 'username=jason&passwd=jason' productpage:9080/login");
    expect(login.stdout).toBe('302');
    let page = '';
    for (let i = 0; i < 20 && !page.includes("gap-x-1 text-black-500"); i++) page = (await curlFromRatings('-b /tmp/jar productpage:9080/productpage')).stdout;
    expect(page).toContain("gap-x-1 text-black-500");
    // Not signed in: v1 as before.
    expect((await curlFromRatings('productpage:9080/productpage')).stdout).not.toMatch(/gap-x-1 text-(black|red)-500/);

    // istio.io's virtual-service-ratings-test-abort.yaml (the release's samples here lack the ratings fault files).
    expect((await sh('kubectl apply -f -', ratingsFault('abort:\n        percentage:\n          value: 100.0\n        httpStatus: 500'))).code).toBe(0);
    for (let i = 0; i < 20 && !page.includes('Ratings service is currently unavailable'); i++) page = (await curlFromRatings('-b /tmp/jar productpage:9080/productpage')).stdout;
    expect(page).toContain('Ratings service is currently unavailable');
    const v2 = await pod('reviews', 'v2');
    const abort = (await proxyLog(v2)).filter((l) => l.includes('"GET /ratings/0')).pop();
    expect(abort).toMatch(/"GET \/ratings\/0 HTTP\/1.1" 500 FI fault_filter_abort - "-" 0 18 \d+ - "-" "[^"]*" "[0-9a-f-]{36}" "ratings:9080" "-" outbound\|9080\|v1\|ratings\.default\.svc\.cluster\.local - [\d.]+:9080 [\d.]+:\d+ - -$/);
  }, 120_000);

  it('the ratings delay fault: productpage gives up on reviews after 3 s twice, both sidecars log DC', async () => {
    expect((await sh('kubectl apply -f -', ratingsFault('delay:\n        percentage:\n          value: 100.0\n        fixedDelay: 7s'))).code).toBe(0);
    const v2 = await pod('reviews', 'v2');
    // The push is asynchronous: a page still served by the abort config is tried again (bounded).
    let page = '';
    let took = 0;
    for (let i = 0; i < 3 && !page.includes('Sorry, product reviews'); i++) {
      const t0 = Date.now();
      page = (await curlFromRatings('-b /tmp/jar productpage:9080/productpage')).stdout;
      took = Date.now() - t0;
    }
    expect(page).toContain('Sorry, product reviews are currently unavailable for this book.');
    expect(took).toBeGreaterThanOrEqual(5900);
    const pp = await pod('productpage');
    const dc = (await proxyLog(pp)).filter((l) => l.includes('"GET /reviews/0 HTTP/1.1" 0 DC downstream_remote_disconnect'));
    expect(dc.length).toBeGreaterThanOrEqual(2);
    expect((await proxyLog(v2)).some((l) => /"GET \/reviews\/0 HTTP\/1.1" 0 DC downstream_remote_disconnect .* inbound\|9080\|\| /.test(l))).toBe(true);
  }, 120_000);
});
