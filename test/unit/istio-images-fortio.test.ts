import { describe, expect, it } from 'vitest';
import { goDuration, goG, parseGoDuration } from '../../server/sim/images/shell/commands/fortio/go-format.js';
import { Histogram } from '../../server/sim/images/shell/commands/fortio/stats.js';
import { MemoryNetwork } from '../../server/sim/images/testing/memory-network.js';
import { exec } from '../../server/sim/images/testing/exec.js';
import { respond } from '../../server/sim/images/http.js';

describe("Go's number and duration formatting as fortio prints it", () => {
  it('%g, %.Ng and Duration.String match Go', () => {
    expect(goG(0.000542083)).toBe('0.000542083');
    expect(goG(1e-5)).toBe('1e-05');
    expect(goG(200000)).toBe('200000');
    expect(goG(7.071067e4, 4)).toBe('7.071e+04');
    expect(goG(46.6666666667, 8)).toBe('46.666667');
    expect(goG(338.7234, 5)).toBe('338.72');
    expect(goG(100, 6)).toBe('100');
    expect(goG(0.0015, 6)).toBe('0.0015');
    expect(goG(123456789, 6)).toBe('1.23457e+08');
    expect(goDuration(59046958)).toBe('59.046958ms');
    expect(goDuration(1.5e9)).toBe('1.5s');
    expect(goDuration(65e9)).toBe('1m5s');
    expect(goDuration(1500)).toBe('1.5µs');
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('500ms')).toBe(5e8);
    expect(parseGoDuration('5')).toBeNull();
  });

  it('histograms print exactly as stats_test.go expects (TestHistogramLastBucket, TestHistogramNegativeNumbers)', () => {
    const h = new Histogram(-1, 1);
    for (const v of [-1, 0, 1, 3, 10, 99999, 100000, 200000]) h.record(v);
    const text = h.text('testLastBucket', [90]);
    // The stddev is not pinned by fortio's own test either; the rest is byte for byte.
    expect(text.replace(/\+\/- \S+/, '+/- X')).toBe(`testLastBucket : count 8 avg 50001.5 +/- X min -1 max 200000 sum 400012
# range, mid point, percentile, count
>= -1 <= -1 , -1 , 12.50, 1
> -1 <= 0 , -0.5 , 25.00, 1
> 0 <= 1 , 0.5 , 37.50, 1
> 2 <= 3 , 2.5 , 50.00, 1
> 9 <= 10 , 9.5 , 62.50, 1
> 74999 <= 99999 , 87499 , 75.00, 1
> 99999 <= 200000 , 150000 , 100.00, 2
# target 90% 160000
`);
    const n = new Histogram(-10, 1);
    n.record(-10);
    n.record(10);
    expect(n.text('testHistogramWithNegativeNumbers', [1, 50, 75])).toBe(`testHistogramWithNegativeNumbers : count 2 avg 0 +/- 10 min -10 max 10 sum 0
# range, mid point, percentile, count
>= -10 <= -10 , -10 , 50.00, 1
> 8 <= 10 , 9 , 100.00, 1
# target 1% -10
# target 50% -10
# target 75% 9
`);
    expect(new Histogram().text('Error cases', [50])).toBe('Error cases : no data\n');
  });
});

/** httpbin that answers 503 to every third request it receives: a stand-in for an overflowing circuit breaker. */
function setup() {
  const net = new MemoryNetwork();
  let seen = 0;
  const inFlight = { now: 0, max: 0 };
  net.addService('httpbin', { app: 'httpbin' }, [{ port: 8000, targetPort: 8080 }]);
  net.addPod({
    name: 'httpbin-1',
    image: 'mccutchen/go-httpbin:v2.15.0',
    labels: { app: 'httpbin' },
    behaviour: {
      ports: [8080],
      async serve(req, ctx) {
        inFlight.now++;
        inFlight.max = Math.max(inFlight.max, inFlight.now);
        await new Promise((r) => setTimeout(r, 5));
        inFlight.now--;
        seen++;
        return seen % 3 === 0 ? respond(ctx, 503, 'upstream connect error', { connection: 'close' }) : respond(ctx, 200, `{"ua":"${req.headers['user-agent']}"}\n`, { 'content-type': 'application/json' });
      },
    },
  });
  const fortio = net.addPod({ name: 'fortio-deploy-7d9f8c-abcde', image: 'fortio/fortio:latest_release', labels: { app: 'fortio' } });
  return { net, fortio, inFlight };
}

describe('fortio load and curl', () => {
  it('load -c 2 -qps 0 -n 20 runs two connections in parallel and prints the circuit-breaking summary', async () => {
    const { fortio, net, inFlight } = setup();
    const ip = net.resolve('default', 'httpbin')!;
    const r = await exec(fortio, ['/usr/bin/fortio', 'load', '-c', '2', '-qps', '0', '-n', '20', '-loglevel', 'Warning', 'http://httpbin:8000/get']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^\{"ts":\d+\.\d{6},"level":"info","r":1,"file":"logger.go","line":298,"msg":"Log level is now 3 Warning \(was 2 Info\)"\}$/);
    expect(lines[1]).toBe('Fortio 1.69.5 running at 0 queries per second, 2->2 procs, for 20 calls: http://httpbin:8000/get');
    expect(lines[2]).toBe('Starting at max qps with 2 thread(s) [gomax 2] for exactly 20 calls (10 per thread + 0)');
    const warnings = lines.filter((l) => l.includes('"Non ok http code"'));
    expect(warnings).toHaveLength(6);
    expect(warnings[0]).toMatch(/^\{"ts":[\d.]+,"level":"warn","r":\d+,"file":"http_client.go","line":1151,"msg":"Non ok http code","code":503,"status":"HTTP\/1.1 503","thread":[01],"run":0\}$/);
    expect(r.stderr).toMatch(/\nEnded after [\d.]+m?s : 20 calls\. qps=[\d.]+\n/);
    expect(r.stderr).toMatch(/\nAggregated Function Time : count 20 avg [\d.e-]+ \+\/- [\d.e+-]+ min [\d.e-]+ max [\d.e-]+ sum [\d.e-]+\n# range, mid point, percentile, count\n>= /);
    expect(r.stderr).toContain('\n# target 50% ');
    expect(r.stderr).toContain('\n# target 99.9% ');
    expect(r.stderr).toMatch(/\nError cases : count 6 avg /);
    // Each 503 came with connection: close, so the next call on that connection opened a new socket.
    expect(r.stderr).toMatch(new RegExp(`\\n\\[0\\] +\\d+ socket used, resolved to ${ip!.replace(/\./g, '\\.')}:8000, connection timing : count \\d+ avg `));
    const sockets = Number(/\nSockets used: (\d+) \(for perfect keepalive, would be 2\)\n/.exec(r.stderr)?.[1]);
    expect(sockets).toBeGreaterThanOrEqual(7);
    expect(sockets).toBeLessThanOrEqual(8);
    expect(r.stderr).toContain(`\nUniform: false, Jitter: false, Catchup allowed: true\nIP addresses distribution:\n${ip}:8000: ${sockets}\nCode 200 : 14 (70.0 %)\nCode 503 : 6 (30.0 %)\nResponse Header Sizes : count 20 avg `);
    expect(r.stderr).toMatch(/\nAll done 20 calls \(plus 0 warmup\) [\d.]+ ms avg, [\d.]+ qps\n$/);
    expect(inFlight.max).toBe(2);
  });

  it('load at a set qps paces the calls, and duration mode warms up first', async () => {
    const { fortio } = setup();
    const t0 = Date.now();
    const r = await exec(fortio, ['fortio', 'load', '-qps', '40', '-c', '2', '-t', '250ms', '-allow-initial-errors', '-loglevel', 'Warning', 'httpbin:8000/get']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(r.stderr).toContain('Starting at 40 qps with 2 thread(s) [gomax 2] for 250ms : 5 calls each (total 10)\n');
    expect(r.stderr).toMatch(/\nSleep times : count 10 avg /);
    expect(r.stderr).toMatch(/\nAll done 10 calls \(plus 2 warmup\) /);
  });

  it('curl -quiet writes the headers to stderr and the body to stdout; a non-200 exits 1', async () => {
    const { fortio } = setup();
    const ok = await exec(fortio, ['/usr/bin/fortio', 'curl', '-quiet', 'http://httpbin:8000/get']);
    expect(ok).toMatchObject({ code: 0, stdout: '{"ua":"fortio.org/fortio-1.69.5"}\n' });
    expect(ok.stderr).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:[a-z-]+: .*\r\n)+\r\n$/);
    await exec(fortio, ['/usr/bin/fortio', 'curl', '-quiet', 'http://httpbin:8000/get']);
    const bad = await exec(fortio, ['/usr/bin/fortio', 'curl', 'http://httpbin:8000/get']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^\d\d:\d\d:\d\d \[W\] Non ok http code, code=503, status="HTTP\/1\.1 503", thread=0, run=0\nHTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*\r\n\r\n\d\d:\d\d:\d\d \[E\] Error status 503\n$/);
  });

  it('a reset connection counts as code -1 (a socket error), logged with the destination as Go renders a TCPAddr', async () => {
    const { fortio, net } = setup();
    const ip = net.resolve('default', 'httpbin')!;
    net.setFault('httpbin-1', 'reset');
    const r = await exec(fortio, ['fortio', 'load', '-c', '1', '-qps', '0', '-n', '3', '-loglevel', 'Warning', 'http://httpbin:8000/get']);
    expect(r.code).toBe(0);
    const errors = r.stderr.split('\n').filter((l) => l.includes('"msg":"Read error"'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain(`"level":"err"`);
    expect(errors[0]).toContain(`"dest":{"IP":"${ip}","Port":8000,"Zone":""},"url":"http://httpbin:8000/get","thread":0,"run":0}`);
    expect(r.stderr).toContain('\nSockets used: 3 (for perfect keepalive, would be 1)\n');
    expect(r.stderr).toContain('\nCode  -1 : 3 (100.0 %)\n');
  });

  it("at the default Info level, load also logs the test start and each thread's end as JSON lines", async () => {
    const { fortio } = setup();
    const r = await exec(fortio, ['fortio', 'load', '-c', '2', '-qps', '0', '-n', '4', 'http://httpbin:8000/get']);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('Fortio 1.69.5 running at 0 queries per second, 2->2 procs, for 4 calls: http://httpbin:8000/get');
    expect(lines[1]).toMatch(/^\{"ts":[\d.]+,"level":"info","r":1,"file":"httprunner.go","line":121,"msg":"Starting http test","run":0,"url":"http:\/\/httpbin:8000\/get","threads":2,"qps":"-1.0","warmup":"parallel","conn-reuse":""\}$/);
    expect(lines.filter((l) => /"file":"periodic.go","line":851,"msg":"T00[01] ended after [\d.]+[µm]?s : 2 calls\. qps=[\d.e+]+"\}$/.test(l))).toHaveLength(2);
    expect(r.stderr).toMatch(/"msg":"Run ended","run":0,"elapsed":\d+,"calls":4,"qps":[\d.]+\}\n/);
    expect(r.stderr).toMatch(/\nConnection time histogram \(s\) : count \d+ avg [^\n]*\n# range, mid point, percentile, count\n/);
  });

  it('unknown flags and commands fail loudly; the image has no shell', async () => {
    const { fortio } = setup();
    expect(await exec(fortio, ['fortio', 'load', '-bogus', 'x'])).toMatchObject({ code: 1, stderr: 'flag provided but not defined: -bogus\n' });
    expect((await exec(fortio, ['fortio', 'server'])).code).toBe(126);
    await expect(exec(fortio, ['sh', '-c', 'true'])).rejects.toThrow(/executable file not found/);
    expect(await exec(fortio, ['fortio', 'version'])).toMatchObject({ code: 0, stdout: '1.69.5\n' });
    const nosuch = await exec(fortio, ['fortio', 'curl', 'http://nosuch:8000/']);
    expect(nosuch.code).toBe(1);
    expect(nosuch.stderr).toMatch(/^\d\d:\d\d:\d\d \[E\] Unable to lookup "nosuch": lookup nosuch on 10\.96\.0\.10:53: no such host\n$/);
    const load = await exec(fortio, ['fortio', 'load', '-n', '4', 'http://nosuch:8000/']);
    expect(load.code).toBe(1);
    expect(load.stderr).toMatch(/"level":"err","r":1,"file":"network.go","line":431,"msg":"Unable to lookup \\"nosuch\\": lookup nosuch on 10\.96\.0\.10:53: no such host"\}\nAborting because of lookup nosuch on 10\.96\.0\.10:53: no such host\n$/);
  });
});
