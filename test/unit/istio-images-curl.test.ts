import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';

function setup() {
  const net = new MemoryNetwork();
  net.addService('httpbin', { app: 'httpbin' }, [{ port: 8000, targetPort: 8080 }], 'foo');
  net.addPod({ name: 'httpbin-0', namespace: 'foo', image: 'docker.io/mccutchen/go-httpbin:v2.15.0', labels: { app: 'httpbin' } });
  // samples/curl/curl.yaml: curlimages/curl with command /bin/sleep infinity.
  const curl = net.addPod({ name: 'curl-0', namespace: 'legacy', image: 'curlimages/curl', command: ['/bin/sleep', 'infinity'] });
  return { net, curl };
}

describe('curl as the mTLS tasks run it', () => {
  it('a reset connection (plain text to a STRICT sidecar): 000 from -w, curl: (56) on stderr with -sS, exit 56', async () => {
    const { net, curl } = setup();
    net.setFault('httpbin-0', 'reset');
    const r = await exec(curl, ['curl', '-sS', 'http://httpbin.foo:8000/ip', '-o', '/dev/null', '-w', '%{http_code}\n']);
    expect(r).toEqual({ code: 56, stdout: '000\n', stderr: 'curl: (56) Recv failure: Connection reset by peer\n' });
    // -s alone hides the error but keeps the exit code, as the task's loop relies on.
    expect(await exec(curl, ['curl', 'http://httpbin.foo:8000/ip', '-s', '-o', '/dev/null', '-w', 'curl.legacy to httpbin.foo: %{http_code}\n'])).toEqual({ code: 56, stdout: 'curl.legacy to httpbin.foo: 000\n', stderr: '' });
  });

  it('-H reaches the server, -I sends HEAD, --max-time bounds a hanging server (exit 28)', async () => {
    const { net, curl } = setup();
    const h = await exec(curl, ['curl', '-s', '-H', 'end-user: jason', 'http://httpbin.foo:8000/headers']);
    expect(JSON.parse(h.stdout).headers['End-User']).toEqual(['jason']);
    const head = await exec(curl, ['curl', '-sI', 'http://httpbin.foo:8000/get']);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n$/);
    expect(head.stdout).not.toContain('"args"');
    net.setFault('httpbin-0', 'hang');
    const t0 = Date.now();
    const slow = await exec(curl, ['curl', '-sS', '--max-time', '0.3', 'http://httpbin.foo:8000/get', '-o', '/dev/null', '-w', '%{http_code}\n']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(slow.code).toBe(28);
    expect(slow.stdout).toBe('000\n');
    expect(slow.stderr).toMatch(/^curl: \(28\) .*timed out after \d+ milliseconds/);
  });
});
