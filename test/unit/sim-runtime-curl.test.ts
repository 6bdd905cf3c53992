import { describe, expect, it } from 'vitest';
import { MemoryNetwork, deployBookinfo } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';
import { TtySession } from '../../server/sim/images/testing/exec.js';

function cluster() {
  const net = new MemoryNetwork();
  const pods = deployBookinfo(net);
  const sleep = net.addPod({ name: 'sleep-5b8f9c7d6-abcde', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'], labels: { app: 'sleep' } });
  const bb = net.addPod({ name: 'bb', image: 'busybox' });
  net.addService('web', { app: 'web' }, [{ port: 80 }]);
  net.addService('empty', { app: 'nothing-here' }, [{ port: 80 }]);
  const web = net.addPod({ name: 'web-1', image: 'nginx:1.27.3', labels: { app: 'web' } });
  return { net, pods, sleep, bb, web };
}

describe('curl output flags', () => {
  it('-s -o /dev/null -w %{http_code} prints only the status', async () => {
    const { sleep } = cluster();
    expect(await exec(sleep, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://productpage:9080/productpage'])).toEqual({ code: 0, stdout: '200', stderr: '' });
    expect((await exec(sleep, ['curl', '-so/dev/null', '-w%{http_code}\\n', 'productpage:9080/nope'])).stdout).toBe('404\n');
  });

  it('-I sends HEAD and prints only the headers; -i prints headers then body', async () => {
    const { sleep } = cluster();
    const head = await exec(sleep, ['curl', '-sI', 'web']);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toContain('Server: nginx/1.27.3\r\n');
    expect(head.stdout).toContain('Content-Length: 615\r\n');
    expect(head.stdout.endsWith('\r\n\r\n')).toBe(true);
    expect(head.stdout).not.toContain('<html>');
    const inc = await exec(sleep, ['curl', '-si', 'details:9080/details/0']);
    expect(inc.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Type: application\/json\r\n[\s\S]*\r\n\r\n\{"id":0,/);
  });

  it('-v shows the request and response lines on stderr', async () => {
    const { sleep, net } = cluster();
    const ip = net.resolve('default', 'details');
    const r = await exec(sleep, ['curl', '-sv', 'details:9080/health']);
    expect(r.stdout).toBe('{"status":"Details is healthy"}');
    // curl 8.16's wording (hostip.c, cf-socket.c, cfilters.c, request.c, multi.c).
    expect(r.stderr).toMatch(
      new RegExp(
        `^\\* Host details:9080 was resolved\\.\\n\\* IPv6: \\(none\\)\\n\\* IPv4: ${ip}\\n\\*   Trying ${ip}:9080\\.\\.\\.\\n\\* Established connection to details \\(${ip} port 9080\\) from ${sleep.podIP} port \\d+ \\n` +
          `> GET /health HTTP/1\\.1\\r\\n> Host: details:9080\\r\\n> User-Agent: curl/8\\.16\\.0\\r\\n> Accept: \\*/\\*\\r\\n> \\r\\n\\* Request completely sent off\\n< HTTP/1\\.1 200 OK\\r\\n`,
      ),
    );
    expect(r.stderr).toContain('* Connection #0 to host details:9080 left intact\n');
  });

  it('without -s and without a tty, curl draws its progress meter on stderr', async () => {
    const { sleep } = cluster();
    const r = await exec(sleep, ['curl', 'web']);
    expect(r.stdout).toContain('<title>Welcome to nginx!</title>');
    expect(r.stderr).toContain('  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n');
    expect(r.stderr).toContain('\r100   615  100   615    0     0  ');
  });

  it('with a tty (kubectl exec -it), no progress meter and \\n becomes \\r\\n', async () => {
    const { sleep } = cluster();
    const s = new TtySession(sleep, ['curl', 'details:9080/health']);
    expect(await s.done).toBe(0);
    expect(s.screen).toBe('{"status":"Details is healthy"}');
  });
});

describe('curl requests', () => {
  it('-H adds headers the server sees; -X/-d send a form POST', async () => {
    const { sleep, net } = cluster();
    net.delivered.length = 0;
    await exec(sleep, ['curl', '-s', '-H', 'end-user: jason', '-H', 'x-request-id: abc', 'reviews:9080/reviews/0']);
    const toReviews = net.delivered.find((d) => d.to.startsWith('reviews'))!;
    expect(toReviews.req.headers['end-user']).toBe('jason');
    // reviews v2/v3 pass end-user on to ratings; v1 does not call ratings at all.
    const toRatings = net.delivered.find((d) => d.to.startsWith('ratings'));
    if (toReviews.to.startsWith('reviews-v1')) expect(toRatings).toBeUndefined();
    else expect(toRatings!.req.headers['end-user']).toBe('jason');

    net.delivered.length = 0;
    const post = await exec(sleep, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-X', 'POST', '-d', 'username=jason', '-e', 'http://productpage:9080/productpage', 'productpage:9080/login']);
    expect(post.stdout).toBe('302 http://productpage:9080/productpage');
    const req = net.delivered[0].req;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.body.toString()).toBe('username=jason');
  });

  it('cookie jar: sign in with -c, then -b sends the session; -L follows the redirect', async () => {
    const { sleep } = cluster();
    const login = await exec(sleep, ['curl', '-s', '-c', '/tmp/jar', '-d', 'username=jason', '-H', 'Referer: http://productpage:9080/productpage', '-L', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects}', 'productpage:9080/login']);
    expect(login.stdout).toBe('200 1');
    const jar = (await exec(sleep, ['cat', '/tmp/jar'])).stdout;
    expect(jar).toMatch(/^# Netscape HTTP Cookie File\n/);
    expect(jar).toMatch(/#HttpOnly_productpage\tFALSE\t\/\tFALSE\t0\tsession\t\S+\n/);
    const page = await exec(sleep, ['sh', '-c', 'curl -s -b /tmp/jar productpage:9080/productpage | grep -c "Sign out"']);
    expect(page.stdout).toBe('1\n');
  });
});

describe('curl errors: messages and exit codes', () => {
  it('(6) unknown host: silent with -s, printed with -sS, -w still prints 000', async () => {
    const { sleep } = cluster();
    expect(await exec(sleep, ['curl', '-s', 'nosuchsvc'])).toEqual({ code: 6, stdout: '', stderr: '' });
    expect(await exec(sleep, ['curl', '-sS', 'nosuchsvc:8080/x'])).toEqual({ code: 6, stdout: '', stderr: 'curl: (6) Could not resolve host: nosuchsvc\n' });
    expect((await exec(sleep, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'nosuchsvc'])).stdout).toBe('000');
  });

  it('(7) connection refused: a service without endpoints, a port nobody listens on', async () => {
    const { sleep } = cluster();
    const empty = await exec(sleep, ['curl', '-sS', 'empty']);
    expect(empty.code).toBe(7);
    expect(empty.stderr).toMatch(/^curl: \(7\) Failed to connect to empty port 80 after \d+ ms: Could not connect to server\n$/);
    expect((await exec(sleep, ['curl', '-sS', 'web:8080'])).stderr).toMatch(/^curl: \(7\) Failed to connect to web port 8080 after \d+ ms: Could not connect to server\n$/);
  });

  it('(28) -m gives up on a hanging server', async () => {
    const { sleep, net } = cluster();
    net.setFault('web-1', 'hang');
    const r = await exec(sleep, ['curl', '-sS', '-m', '0.2', 'web']);
    expect(r.code).toBe(28);
    expect(r.stderr).toMatch(/^curl: \(28\) Operation timed out after \d+ milliseconds with 0 bytes received\n$/);
  });

  it('(56) connection reset', async () => {
    const { sleep, net } = cluster();
    net.setFault('web-1', 'reset');
    expect(await exec(sleep, ['curl', '-sS', 'web'])).toEqual({ code: 56, stdout: '', stderr: 'curl: (56) Recv failure: Connection reset by peer\n' });
  });

  it('(22) -f on an HTTP error, body suppressed', async () => {
    const { sleep } = cluster();
    expect(await exec(sleep, ['curl', '-sSf', 'web/missing'])).toEqual({ code: 22, stdout: '', stderr: 'curl: (22) The requested URL returned error: 404\n' });
    expect((await exec(sleep, ['sh', '-c', 'curl -sf web/missing || echo failed'])).stdout).toBe('failed\n');
  });

  it('usage errors exit 2 and never run silently', async () => {
    const { sleep } = cluster();
    const tryHelp = "curl: try 'curl --help' or 'curl --manual' for more information\n";
    expect(await exec(sleep, ['curl', '--foo', 'web'])).toEqual({ code: 2, stdout: '', stderr: `curl: option --foo: is unknown\n${tryHelp}` });
    expect(await exec(sleep, ['curl', '-Z', 'web'])).toEqual({ code: 2, stdout: '', stderr: `curl: option -Z: is unknown\n${tryHelp}` });
    expect(await exec(sleep, ['curl', '-s'])).toEqual({ code: 2, stdout: '', stderr: `curl: no URL specified!\n${tryHelp}` });
    expect(await exec(sleep, ['curl'])).toEqual({ code: 2, stdout: '', stderr: tryHelp });
    expect((await exec(sleep, ['curl', '-o'])).stderr).toBe(`curl: option -o: requires parameter\n${tryHelp}`);
    expect((await exec(sleep, ['curl', '-m', 'x', 'web'])).stderr).toBe(`curl: option -m: expected a proper numerical parameter\n${tryHelp}`);
    expect((await exec(sleep, ['curl', '--resolve', 'a:80:1.2.3.4', 'web'])).code).toBe(2);
    const https = await exec(sleep, ['curl', '-sS', 'https://web/']);
    expect(https.code).toBe(1);
    expect(https.stderr).toContain('curl: (1) Protocol "https" not supported');
  });

  it('(23) writing to a directory that does not exist', async () => {
    const { sleep } = cluster();
    const r = await exec(sleep, ['curl', '-sS', '-o', '/no/dir/x', 'web']);
    expect(r.code).toBe(23);
    expect(r.stderr).toBe('Warning: Failed to open the file /no/dir/x: No such file or directory\ncurl: (23) Failure writing output to destination\n');
  });
});

describe('wget (busybox)', () => {
  it('-qO- prints the body; -S shows response headers; errors worded as busybox', async () => {
    const { bb } = cluster();
    const r = await exec(bb, ['wget', '-qO-', 'http://productpage:9080/productpage']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<title>Simple Bookstore App</title>');
    const s = await exec(bb, ['wget', '-S', '-q', '-O', '-', 'web']);
    expect(s.stderr).toContain('  HTTP/1.1 200 OK\n');
    expect(await exec(bb, ['wget', '-qO-', 'nosuch'])).toEqual({ code: 1, stdout: '', stderr: "wget: bad address 'nosuch'\n" });
    const notFound = await exec(bb, ['wget', '-qO-', 'web/missing']);
    expect(notFound).toEqual({ code: 1, stdout: '', stderr: 'wget: server returned error: HTTP/1.1 404 Not Found\n' });
    const saved = await exec(bb, ['sh', '-c', 'cd /tmp && wget web/ 2>/dev/null; grep -c "<h1>Welcome to nginx" /tmp/index.html']);
    expect(saved.stdout).toBe('1\n');
  });
});
