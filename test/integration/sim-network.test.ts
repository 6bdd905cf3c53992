/**
 * The embedded cluster's pod network judged by the real kubectl and the real curl: cluster DNS
 * and Service balancing from inside pods, NodePorts as real listeners on the nodes' addresses,
 * port-forward, the API's proxy subresources, the per-pod interception point, and `kubectl top`
 * on a cluster without metrics-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployBookinfo, reviewsVersion, startHarness, until, type Harness } from './sim-network-harness.js';

let h: Harness;
let ratingsPod: string;

beforeAll(async () => {
  h = await startHarness();
  await deployBookinfo(h);
  ratingsPod = (await h.ok(['get', 'pod', '-l', 'app=ratings', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
}, 90_000);

afterAll(async () => {
  await h?.close();
});

const inRatings = (script: string) => h.kubectl(['exec', ratingsPod, '-c', 'ratings', '--', 'sh', '-c', script]);

describe('cluster DNS and Services from inside a pod', () => {
  it('reaches productpage by its short name and prints the page title', async () => {
    const r = await h.kubectl(['exec', ratingsPod, '-c', 'ratings', '--', 'sh', '-c', 'curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('<title>Simple Bookstore App</title>\n');
    expect(r.code).toBe(0);
  });

  it('resolves svc, svc.ns and the FQDN to the ClusterIP; unknown names fail as curl does', async () => {
    const ip = (await h.ok(['get', 'svc', 'details', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    for (const name of ['details', 'details.default', 'details.default.svc', 'details.default.svc.cluster.local']) {
      const r = await inRatings(`curl -sS -o /dev/null -w '%{http_code} %{remote_ip}' http://${name}:9080/details/0`);
      expect(r.stdout, name).toBe(`200 ${ip}`);
    }
    const lookup = await inRatings('nslookup details');
    expect(lookup.stdout).toContain('details.default.svc.cluster.local');
    expect(lookup.stdout).toContain(ip);
    const missing = await inRatings('curl -sS http://nosuch:9080/');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Could not resolve host: nosuch');
  });

  it('refuses a Service port with no listener and times out on an unroutable address, with curl exit codes', async () => {
    // ratings listens on 9080 only; a pod IP on another port is refused (curl exit 7).
    const podIP = (await h.ok(['get', 'pod', ratingsPod, '-o', 'jsonpath={.status.podIP}'])).trim();
    const refused = await inRatings(`curl -sS http://${podIP}:8080/; echo "exit=$?"`);
    expect(refused.stdout).toContain('exit=7');
    expect(refused.stderr).toContain('Connection refused');
    const timeout = await inRatings('curl -sS -m 1 http://10.99.99.99:80/; echo "exit=$?"');
    expect(timeout.stdout).toContain('exit=28');
  });

  it('a Service with no ready endpoints refuses connections', async () => {
    await h.ok(['create', 'service', 'clusterip', 'empty', '--tcp=80:8080']);
    const r = await inRatings('curl -sS http://empty/; echo "exit=$?"');
    expect(r.stdout).toContain('exit=7');
    expect(r.stderr).toMatch(/Failed to connect to empty port 80 .*Connection refused/);
  });

  it('a headless Service resolves to its pods, and StatefulSet pods by hostname.subdomain', async () => {
    await h.ok(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: nginx, image: nginx:1.27, ports: [{ containerPort: 80, name: http }] }]
`);
    await until('two web pods ready', async () => (await h.ok(['get', 'statefulset', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).trim() === '2', 30_000);
    const ip1 = (await h.ok(['get', 'pod', 'web-1', '-o', 'jsonpath={.status.podIP}'])).trim();
    const byHost = await inRatings(`curl -sS -o /dev/null -w '%{http_code} %{remote_ip}' http://web-1.web/`);
    expect(byHost.stdout).toBe(`200 ${ip1}`);
    const headless = await inRatings('curl -sS http://web.default.svc.cluster.local/ | grep -o "<title>.*</title>"');
    expect(headless.stdout).toBe('<title>Welcome to nginx!</title>\n');
  });

  it('balances across all three reviews versions (v1 no stars, v2 black, v3 red)', async () => {
    // 30 page loads from inside the mesh, one line per page: which reviews pod, which star colour.
    const script =
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do ' +
      'curl -s productpage:9080/productpage | grep -o -E "Reviews served by: reviews-v[0-9]|gap-x-1 text-[a-z]+-500" | sort -u | tr "\\n" " "; echo; done';
    const r = await inRatings(script);
    expect(r.code, r.stderr).toBe(0);
    const pages = r.stdout.trim().split('\n');
    expect(pages, r.stdout).toHaveLength(30);
    const seen = new Set(pages.map((l) => l.trim()));
    expect([...seen].sort()).toEqual([
      'Reviews served by: reviews-v1',
      'Reviews served by: reviews-v2 gap-x-1 text-black-500',
      'Reviews served by: reviews-v3 gap-x-1 text-red-500',
    ]);
  });

  it('the service proxy sees the three versions too', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 3; i++) {
      const r = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/productpage:9080/proxy/productpage']);
      expect(r.code, r.stderr).toBe(0);
      seen.add(reviewsVersion(r.stdout));
    }
    expect([...seen].sort()).toEqual(['v1:none', 'v2:black', 'v3:red']);
  });
});

describe('NodePorts', () => {
  it('kubectl expose --type=NodePort opens a real listener on every node address, reachable with host curl', async () => {
    await h.ok(['expose', 'deployment', 'productpage-v1', '--name=pp-nodeport', '--type=NodePort', '--port=9080']);
    const nodePort = (await h.ok(['get', 'svc', 'pp-nodeport', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
    const ips = (await h.ok(['get', 'nodes', '-o', 'jsonpath={.items[*].status.addresses[?(@.type=="InternalIP")].address}'])).trim().split(' ');
    expect(ips).toHaveLength(3);
    for (const ip of ips) {
      const r = await until(`curl ${ip}:${nodePort}`, async () => {
        const x = await h.sh(`curl -sS -i http://${ip}:${nodePort}/productpage`);
        return x.code === 0 ? x : undefined;
      });
      expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.stdout).toContain('<title>Simple Bookstore App</title>');
    }
    // Deleting the Service closes the listeners.
    await h.ok(['delete', 'svc', 'pp-nodeport']);
    await until('listener closed', async () => (await h.sh(`curl -sS http://${ips[0]}:${nodePort}/`)).code === 7);
  });

  it('a NodePort whose targetPort nothing listens on refuses connections, as the pod would', async () => {
    await h.ok(['expose', 'deployment', 'details-v1', '--name=wrong-port', '--type=NodePort', '--port=80', '--target-port=8080']);
    const nodePort = (await h.ok(['get', 'svc', 'wrong-port', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
    const ip = (await h.ok(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    await until('endpoints', async () => (await h.ok(['get', 'endpoints', 'wrong-port', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])).trim());
    const r = await h.sh(`curl -sS http://${ip}:${nodePort}/details/0`);
    // curl's exit code 7: the connection itself was refused (curl 8 words it "Couldn't connect to server").
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^curl: \(7\) Failed to connect to /);
    await h.ok(['delete', 'svc', 'wrong-port']);
  });

  it('patching a Service to LoadBalancer serves its NodePort (EXTERNAL-IP <pending>); back to ClusterIP closes it', async () => {
    await h.ok(['patch', 'svc', 'details', '-p', '{"spec":{"type":"LoadBalancer"}}']);
    const row = await h.ok(['get', 'svc', 'details', '--no-headers']);
    expect(row).toMatch(/^details\s+LoadBalancer\s+\S+\s+<pending>\s+9080:(\d+)\/TCP/);
    const nodePort = row.match(/9080:(\d+)\/TCP/)![1];
    const ip = (await h.ok(['get', 'nodes', '-o', 'jsonpath={.items[1].status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    const r = await until('details over the NodePort', async () => {
      const x = await h.sh(`curl -sS http://${ip}:${nodePort}/details/0`);
      return x.code === 0 ? x : undefined;
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 0, author: 'William Shakespeare' });
    // Back to ClusterIP: the node port is dropped (kube's dropTypeDependentFields) and its listener closes.
    expect(await h.ok(['patch', 'svc', 'details', '-p', '{"spec":{"type":"ClusterIP"}}'])).toBe('service/details patched\n');
    expect(await h.ok(['get', 'svc', 'details', '--no-headers'])).toMatch(/^details\s+ClusterIP\s+\S+\s+<none>\s+9080\/TCP\s/);
    await until('listener closed', async () => (await h.sh(`curl -sS http://${ip}:${nodePort}/details/0`)).code === 7);
  });
});

describe('port-forward', () => {
  for (const target of ['pod', 'deploy/productpage-v1', 'svc/productpage']) {
    it(`kubectl port-forward ${target} then curl localhost reaches productpage`, async () => {
      const resource = target === 'pod' ? (await h.ok(['get', 'pod', '-l', 'app=productpage', '-o', 'jsonpath={.items[0].metadata.name}'])).trim() : target;
      // `:9080` lets kubectl take a free local port itself: a port found free beforehand may be
      // taken by another test's connection before kubectl binds it.
      const pf = h.spawnKubectl(['port-forward', resource, ':9080']);
      let out = '';
      pf.stdout!.on('data', (d) => (out += d));
      pf.stderr!.on('data', (d) => (out += d));
      try {
        await until('Forwarding from', async () => /Forwarding from 127\.0\.0\.1:\d+ -> 9080/.test(out));
        const local = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 9080/.exec(out)![1]);
        const r = await h.sh(`curl -sS http://localhost:${local}/productpage | grep -o "<title>.*</title>"`);
        expect(r.stdout).toBe('<title>Simple Bookstore App</title>\n');
        const api = await h.sh(`curl -sS http://127.0.0.1:${local}/api/v1/products/0/ratings`);
        expect(JSON.parse(api.stdout)).toMatchObject({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
        expect(out).toContain(`Handling connection for ${local}`);
      } finally {
        pf.kill();
      }
    });
  }

  it('a port nothing listens on fails the forward as the kubelet reports it', async () => {
    const pf = h.spawnKubectl(['port-forward', 'deploy/details-v1', ':7777']);
    let out = '';
    pf.stdout!.on('data', (d) => (out += d));
    pf.stderr!.on('data', (d) => (out += d));
    try {
      await until('Forwarding from', async () => /Forwarding from 127\.0\.0\.1:\d+ -> 7777/.test(out));
      const local = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 7777/.exec(out)![1]);
      const r = await h.sh(`curl -sS http://127.0.0.1:${local}/`);
      expect(r.code).not.toBe(0);
      await until('kubelet error', async () => out.includes(`an error occurred forwarding ${local} -> 7777`));
      expect(out).toMatch(/connect: connection refused/);
    } finally {
      pf.kill();
    }
  });
});

describe('the API proxy subresources', () => {
  it('services/NAME:PORT/proxy forwards method, headers, body and status', async () => {
    const page = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/productpage:9080/proxy/productpage']);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain('<title>Simple Bookstore App</title>');
    // By port name too, and a backend 404 comes back as a 404.
    const missing = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/details:http/proxy/nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NotFound');
  });

  it('a POST through the proxy signs in to productpage (form body in, Set-Cookie and redirect out)', async () => {
    const base = h.cluster.url;
    const r = await h.sh(
      `curl -sS -k -i -H "Authorization: Bearer ${h.cluster.token}" -H "Referer: /productpage" -d 'username=jason&passwd=password' ${base}/api/v1/namespaces/default/services/productpage:9080/proxy/login`,
    );
    expect(r.stdout).toMatch(/^HTTP\/1\.1 302/);
    expect(r.stdout).toMatch(/[Ss]et-[Cc]ookie: session=/);
    // productpage redirects to the Referer; the apiserver's proxy moves that under the proxy path.
    expect(r.stdout).toMatch(new RegExp(`[Ll]ocation: ${base.replace(/\./g, '\\.')}/api/v1/namespaces/default/services/productpage:9080/proxy/productpage`));
  });

  it('kubectl proxy on localhost reaches the service proxy, as the Kubernetes docs use it', async () => {
    const proxy = h.spawnKubectl(['proxy', '--port=0']);
    let out = '';
    proxy.stdout!.on('data', (d) => (out += d));
    try {
      const port = await until('kubectl proxy', async () => out.match(/Starting to serve on 127\.0\.0\.1:(\d+)/)?.[1]);
      const r = await h.sh(`curl -sS http://127.0.0.1:${port}/api/v1/namespaces/default/services/productpage:9080/proxy/productpage | grep -o "<title>.*</title>"`);
      expect(r.stdout).toBe('<title>Simple Bookstore App</title>\n');
    } finally {
      proxy.kill();
    }
  });

  it('pods/NAME:PORT/proxy reaches one pod', async () => {
    const pod = (await h.ok(['get', 'pod', '-l', 'app=reviews,version=v3', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const r = await h.ok(['get', '--raw', `/api/v1/namespaces/default/pods/${pod}:9080/proxy/reviews/0`]);
    expect(JSON.parse(r)).toMatchObject({ id: '0', podname: pod });
    const first = await h.ok(['get', '--raw', `/api/v1/namespaces/default/pods/${pod}/proxy/reviews/0`]);
    expect(JSON.parse(first).podname).toBe(pod);
  });

  it('errors are worded as kube-apiserver words them', async () => {
    const none = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/empty/proxy/']);
    expect(none.stderr).toContain('Error from server (ServiceUnavailable): no endpoints available for service "empty"');
    const noPort = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/productpage:1234/proxy/']);
    expect(noPort.stderr).toContain('no service port 1234 found for service "productpage"');
    const unnamed = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/productpage/proxy/productpage']);
    expect(unnamed.stderr).toContain('no endpoints available for service "productpage"');
    const gone = await h.kubectl(['get', '--raw', '/api/v1/namespaces/default/services/nosuch:80/proxy/']);
    expect(gone.stderr).toContain('services "nosuch" not found');
    const pod = (await h.ok(['get', 'pod', '-l', 'app=details', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const refused = await h.kubectl(['get', '--raw', `/api/v1/namespaces/default/pods/${pod}:81/proxy/`]);
    expect(refused.stderr).toMatch(/error trying to reach service: dial tcp 10\.244\.\d+\.\d+:81: connect: connection refused/);
  });
});

describe('the per-pod interception point', () => {
  it('sees requests a pod sends and receives, and can answer them without the workload knowing', async () => {
    const seen: string[] = [];
    const remove = h.cluster.api.interceptors.add({
      name: 'test-sidecar',
      appliesTo: (pod) => pod.labels.app === 'ratings' || pod.labels.app === 'details',
      outbound: async (call, next) => {
        seen.push(`out ${call.source.labels.app} -> ${call.target.host}:${call.target.port} ${call.req.method} ${call.req.path}`);
        if (call.target.host === 'reviews') return { status: 503, headers: { 'content-type': 'text/plain', 'content-length': '19' }, body: Buffer.from('no healthy upstream') };
        return next(call);
      },
      inbound: async (call, next) => {
        seen.push(`in ${call.destination.labels.app}:${call.port} via ${call.via} from ${call.source.pod?.labels.app ?? call.source.ip}`);
        const res = await next(call);
        return { ...res, headers: { ...res.headers, 'x-test-sidecar': 'inbound' } };
      },
    });
    try {
      const blocked = await inRatings('curl -sS -w " %{http_code}" http://reviews:9080/reviews/0');
      expect(blocked.stdout).toBe('no healthy upstream 503');
      const passed = await inRatings('curl -sS -D - -o /dev/null http://details:9080/details/0');
      expect(passed.stdout).toMatch(/x-test-sidecar: inbound/i);
      expect(seen).toContain('out ratings -> reviews:9080 GET /reviews/0');
      expect(seen).toContain('out ratings -> details:9080 GET /details/0');
      expect(seen).toContain('in details:9080 via pod from ratings');
    } finally {
      remove();
    }
    const after = await inRatings('curl -sS -o /dev/null -w "%{http_code}" http://reviews:9080/reviews/0');
    expect(after.stdout).toBe('200');
  });
});

describe('kube-system under the workload runtime', () => {
  it('system pods whose binaries the simulation does not run keep running (no crash loops)', async () => {
    const rows = (await h.ok(['get', 'pods', '-n', 'kube-system', '--no-headers'])).trim().split('\n');
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const row of rows) expect(row, row).toMatch(/^\S+\s+1\/1\s+Running\s+0\s/);
  });
});

describe('kubectl top', () => {
  it('fails as on a cluster without metrics-server', async () => {
    for (const what of ['pod', 'node']) {
      const r = await h.kubectl(['top', what]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: Metrics API not available\n');
    }
  });
});

describe('a Service keeps answering when its pod is replaced', () => {
  it('deleting the productpage pod: the Deployment replaces it and the Service answers from the new one', async () => {
    const old = (await h.ok(['get', 'pod', '-l', 'app=productpage', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    await h.ok(['delete', 'pod', old]);
    await until('a new ready productpage pod', async () => {
      const names = (await h.ok(['get', 'pod', '-l', 'app=productpage', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}'])).trim();
      return names && !names.includes(old) ? names : undefined;
    });
    await h.ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=productpage', '--timeout=30s']);
    const r = await until('productpage answers', async () => {
      const x = await inRatings('curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"');
      return x.code === 0 ? x : undefined;
    });
    expect(r.stdout).toBe('<title>Simple Bookstore App</title>\n');
  });
});
