import { describe, expect, it } from 'vitest';
import { outputLike, tokensMatch } from '../../server/checks/tolerant-match.js';

const docPods = `NAME                              READY   STATUS    RESTARTS   AGE
details-v1-79f774bdb9-hvzkv       2/2     Running   0          2m
productpage-v1-6b746f74dc-9stvl   2/2     Running   0          2m
ratings-v1-b6994bb9-7g4z2         2/2     Running   0          2m
reviews-v1-545db77b95-mffvt       2/2     Running   0          2m`;

const learnerPods = `$ kubectl get pods
NAME                             READY   STATUS    RESTARTS   AGE
details-v1-6d8b5c7f9-x2kqz       2/2     Running   0          17s
productpage-v1-5f9d8c6b7-abcde   2/2     Running   0          17s
ratings-v1-7c9d5b8f6-qwert       2/2     Running   0          16s
reviews-v1-85d7f9c6b8-zxcvb      2/2     Running   0          16s
$ `;

describe('tolerant output matching', () => {
  it('accepts the same table with other pod hashes, ages and spacing', () => {
    expect(outputLike(docPods, learnerPods)).toEqual({ ok: true });
  });

  it('rejects a real difference and names the missing line', () => {
    const notReady = learnerPods.replace('details-v1-6d8b5c7f9-x2kqz       2/2', 'details-v1-6d8b5c7f9-x2kqz       1/2');
    const result = outputLike(docPods, notReady);
    expect(result.ok).toBe(false);
    expect(result.missing).toMatch(/^details-v1-79f774bdb9-hvzkv\s+2\/2/);
  });

  it('does not confuse different workloads that share a prefix', () => {
    expect(tokensMatch('reviews-v1-545db77b95-mffvt', 'reviews-v2-545db77b95-mffvt')).toBe(false);
    expect(tokensMatch('details-v1', 'details-v2')).toBe(false);
    expect(tokensMatch('Running', 'Pending')).toBe(false);
  });

  it('lets IPs and node ports differ but not port numbers or protocols', () => {
    expect(tokensMatch('10.96.12.7', '10.100.3.4')).toBe(true);
    expect(tokensMatch('80:31380/TCP,443:31390/TCP', '80:30123/TCP,443:32001/TCP')).toBe(true);
    expect(tokensMatch('80:31380/TCP', '8080:31380/TCP')).toBe(false);
    expect(tokensMatch('9080/TCP', '9080/UDP')).toBe(false);
  });

  it('supports ... for any lines and * for any token', () => {
    const expected = `NAME   READY\n...\nreviews-v3-*   2/2`;
    expect(outputLike('NAME READY\n...\n*   2/2', 'NAME READY\na 1/1\nb 1/1\nc 2/2').ok).toBe(true);
    expect(outputLike(expected, 'NAME READY\nx 1/1').ok).toBe(false);
  });

  it('ignores terminal colour codes and CRLF line ends', () => {
    expect(outputLike('<title>Simple Bookstore App</title>', '\x1b[01;31m<title>Simple Bookstore App</title>\x1b[m\r\n').ok).toBe(true);
  });
});
