import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';

function setup() {
  const net = new MemoryNetwork();
  net.addService('httpbin', { app: 'httpbin' }, [{ port: 8000, targetPort: 8080 }]);
  net.addPod({ name: 'httpbin-0', image: 'docker.io/mccutchen/go-httpbin:v2.15.0', labels: { app: 'httpbin' } });
  const curl = net.addPod({ name: 'curl-0', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'] });
  return { net, curl, logs: net.logs.get('httpbin-0')! };
}

describe('go-httpbin v2.15.0', () => {
  it('/get answers indented JSON with array header values, Host included, as handlers.go writes it', async () => {
    const { curl } = setup();
    const r = await exec(curl, ['curl', '-si', '-H', 'X-Forwarded-For: 10.1.2.3, 10.0.0.1', 'http://httpbin:8000/get?b=2&a=1&a=3']);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // net/http: the handler's headers sorted, then Date and Content-Length.
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\nAccess-Control-Allow-Credentials: true\r\nAccess-Control-Allow-Origin: \*\r\nContent-Type: application\/json; charset=utf-8\r\nDate: [^\r]+ GMT\r\nContent-Length: \d+\r\n\r\n/);
    const body = r.stdout.slice(r.stdout.indexOf('\r\n\r\n') + 4);
    expect(body).toBe(
      '{\n  "args": {\n    "a": [\n      "1",\n      "3"\n    ],\n    "b": [\n      "2"\n    ]\n  },\n  "headers": {\n    "Accept": [\n      "*/*"\n    ],\n' +
        '    "Host": [\n      "httpbin:8000"\n    ],\n    "User-Agent": [\n      "curl/8.16.0"\n    ],\n    "X-Forwarded-For": [\n      "10.1.2.3, 10.0.0.1"\n    ]\n  },\n' +
        '  "method": "GET",\n  "origin": "10.1.2.3",\n  "url": "http://httpbin:8000/get?b=2&a=1&a=3"\n}\n',
    );
  });

  it('/status/{code}: empty text/plain bodies, the special cases, 400 for a bad code', async () => {
    const { curl } = setup();
    const s503 = await exec(curl, ['curl', '-si', 'httpbin:8000/status/503']);
    expect(s503.stdout).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*Content-Type: text\/plain; charset=utf-8\r\n[\s\S]*Content-Length: 0\r\n\r\n$/);
    expect((await exec(curl, ['curl', '-s', 'httpbin:8000/status/418'])).stdout).toBe("I'm a teapot!");
    const bad = await exec(curl, ['curl', '-s', '-w', '%{http_code}', 'httpbin:8000/status/abc']);
    expect(bad.stdout).toBe('{\n  "status_code": 400,\n  "error": "Bad Request",\n  "detail": "invalid status code: \\"abc\\": strconv.Atoi: parsing \\"abc\\": invalid syntax"\n}\n400');
  });

  it('/delay/{d} waits, then answers like /anything with Server-Timing; over 10s is a 400', async () => {
    const { curl } = setup();
    const t0 = Date.now();
    const r = await exec(curl, ['curl', '-si', 'httpbin:8000/delay/0.3']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(r.stdout).toContain('Server-Timing: initial_delay;dur=300;desc="initial delay"\r\n');
    expect(r.stdout).toContain('"data": "",\n  "files": {},\n  "form": {},\n  "json": null\n}\n');
    const long = await exec(curl, ['curl', '-s', 'httpbin:8000/delay/11']);
    expect(JSON.parse(long.stdout)).toEqual({ status_code: 400, error: 'Bad Request', detail: 'invalid duration: duration 11s longer than 10s' });
  });

  it("unknown paths get Go's mux 404; /get refuses POST with 405", async () => {
    const { curl } = setup();
    expect(await exec(curl, ['curl', '-s', '-w', ' %{http_code}', 'httpbin:8000/nope'])).toMatchObject({ stdout: '404 page not found\n 404' });
    const post = await exec(curl, ['curl', '-si', '-X', 'POST', 'httpbin:8000/get']);
    expect(post.stdout).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*Allow: GET, HEAD\r\n/);
  });

  it('/response-headers sets the query as headers; /anything echoes a JSON body', async () => {
    const { curl } = setup();
    const r = await exec(curl, ['curl', '-si', 'httpbin:8000/response-headers?X-Foo=bar']);
    expect(r.stdout).toContain('X-Foo: bar\r\n');
    expect(r.stdout.endsWith('{\n  "X-Foo": [\n    "bar"\n  ]\n}\n')).toBe(true);
    const a = await exec(curl, ['curl', '-s', '-H', 'content-type: application/json', '-d', '{"k":1}', 'httpbin:8000/anything/x']);
    expect(JSON.parse(a.stdout)).toMatchObject({ method: 'POST', data: '{"k":1}', json: { k: 1 }, url: 'http://httpbin:8000/anything/x' });
  });

  it('logs one slog line per request (what the mirroring task reads with kubectl logs)', async () => {
    const { curl, logs } = setup();
    expect(logs[0]).toMatch(/^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO msg="go-httpbin listening on http:\/\/0\.0\.0\.0:8080"$/);
    await exec(curl, ['curl', '-s', 'httpbin:8000/headers']);
    await exec(curl, ['curl', '-s', 'httpbin:8000/status/503']);
    expect(logs[1]).toMatch(/^time=\S+ level=INFO msg="200 GET \/headers \d+\.\dms" status=200 method=GET uri=\/headers size_bytes=\d+ duration_ms=[\d.e-]+ user_agent=curl\/8\.16\.0 client_ip=10\.244\.1\.\d+:\d+$/);
    expect(logs[2]).toMatch(/^time=\S+ level=ERROR msg="503 GET \/status\/503 \d+\.\dms" status=503 method=GET uri=\/status\/503 size_bytes=0 /);
  });
});
