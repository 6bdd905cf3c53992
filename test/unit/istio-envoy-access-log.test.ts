/**
 * The access log formatter: Istio's default TEXT line field by field, `-` for what is empty,
 * several response flags in Envoy's order, a custom accessLogFormat, and the JSON encoding.
 */
import { describe, expect, it } from 'vitest';
import { accessLogLine, formatFlags, formatJson, formatText, type AccessLogEntry } from '../../server/sim/addons/istio/envoy/access-log.js';
import { request } from '../../server/sim/images/http.js';

const entry = (extra: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  start: new Date('2020-11-25T21:26:18.409Z'),
  req: request('GET', '/status/418', { host: 'httpbin:8000', 'user-agent': 'curl/7.73.0-DEV', 'x-request-id': '84961386-6d84-929d-98bd-c5aee93b5c88' }),
  responseHeaders: { 'x-envoy-upstream-service-time': '4' },
  responseCode: 418,
  flags: [],
  details: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 135,
  durationMs: 4,
  upstreamHost: '10.44.1.27:80',
  upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
  upstreamLocalAddress: '10.44.1.23:37652',
  downstreamLocalAddress: '10.0.45.184:8000',
  downstreamRemoteAddress: '10.44.1.23:46520',
  routeName: 'default',
  ...extra,
});

describe('access log', () => {
  it("reproduces istio.io's access-log task line", () => {
    expect(formatText(entry())).toBe(
      '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default',
    );
  });

  it('x-envoy-original-path wins over the path; SNI; empty fields are -', () => {
    const e = entry({ req: request('GET', '/reviews/0', { 'x-envoy-original-path': '/v1/reviews/0' }), responseHeaders: {}, requestedServerName: 'outbound_.9080_._.reviews.default.svc.cluster.local', upstreamHost: undefined, upstreamLocalAddress: undefined, routeName: undefined });
    expect(formatText(e)).toBe('[2020-11-25T21:26:18.409Z] "GET /v1/reviews/0 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 - "-" "-" "-" "-" "-" outbound|8000||httpbin.foo.svc.cluster.local - 10.0.45.184:8000 10.44.1.23:46520 outbound_.9080_._.reviews.default.svc.cluster.local -');
  });

  it("several flags print comma-joined in Envoy's order", () => {
    expect(formatFlags(['URX', 'UF'])).toBe('UF,URX');
    expect(formatFlags(['FI', 'DI'])).toBe('DI,FI');
    expect(formatFlags([])).toBe('-');
  });

  it('a custom format (meshConfig.accessLogFormat), unknown operators as -', () => {
    expect(accessLogLine({ path: '/dev/stdout', encoding: 'TEXT', format: '%REQ(:METHOD)% %RESPONSE_CODE% %NOPE% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\n' }, entry())).toBe('GET 418 - 10.44.1.23');
  });

  it('JSON encoding: sorted keys, numbers as numbers, empty as null', () => {
    const line = formatJson(entry({ routeName: undefined }));
    const o = JSON.parse(line);
    expect(Object.keys(o)).toEqual([...Object.keys(o)].sort());
    expect(o).toMatchObject({ method: 'GET', path: '/status/418', response_code: 418, bytes_sent: 135, duration: 4, route_name: null, upstream_cluster: 'outbound|8000||httpbin.foo.svc.cluster.local', authority: 'httpbin:8000' });
    expect(accessLogLine({ path: '/dev/stdout', encoding: 'JSON' }, entry())).toBe(formatJson(entry()));
  });

  it('off without an access log file', () => {
    expect(accessLogLine(undefined, entry())).toBeUndefined();
  });
});
