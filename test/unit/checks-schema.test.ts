import { describe, expect, it } from 'vitest';
import { describeCheckError, parseCheck } from '../../server/checks/schema.js';

describe('check declarations', () => {
  it('accepts each kind in its documented form', () => {
    const ok = [
      { title: 'web is a NodePort', resource: { apiVersion: 'v1', kind: 'Service', name: 'web', fields: [{ path: 'spec.type', equals: 'NodePort' }] } },
      { title: 'sidecars', workload: { pods: 'app in (productpage,details)', ready: '2/2' } },
      { title: 'web ready', workload: { deployment: 'web', readyReplicas: 3 } },
      { title: 'page', http: { service: 'productpage', port: 9080, path: '/productpage', expect: { status: 200, bodyContains: 'Simple Bookstore App' } } },
      { title: 'split', http: { gateway: true, path: '/productpage', samples: 200, key: { regex: 'color="(\\w+)"' }, shares: { none: 0.5, red: 0.5 } } },
      { title: 'saw it', output: { like: 'NAME   READY' } },
      { title: 'escape hatch', command: { run: 'kubectl get ns istio-system' } },
    ];
    for (const raw of ok) expect(parseCheck(raw), JSON.stringify(raw)).toMatchObject({ ok: true });
  });

  it('names the known kinds when a check uses an unknown one', () => {
    expect(parseCheck({ title: 'x', pod: { name: 'a' } })).toMatchObject({
      ok: false,
      error: 'unknown check kind "pod"; a check has exactly one of: resource, workload, http, output, command',
    });
  });

  it('points at the offending field inside a check', () => {
    const bad = parseCheck({ title: 'x', workload: { pods: 'app=web', ready: 'two of two' } });
    expect(bad).toMatchObject({ ok: false, path: ['workload', 'ready'] });
    expect(!bad.ok && describeCheckError(bad)).toMatch(/^workload\.ready: must look like READY/);
    expect(parseCheck({ title: 'x', resource: { apiVersion: 'v1', kind: 'Pod', fields: [{ path: 'a', equals: 1, matches: 'b' }] } })).toMatchObject({ ok: false });
  });

  it('requires a title and refuses stray fields', () => {
    expect(parseCheck({ command: { run: 'true' } })).toMatchObject({ ok: false });
    expect(parseCheck({ title: 't', command: { run: 'true' }, retries: 3 })).toMatchObject({ ok: false, path: ['retries'], error: expect.stringMatching(/^unknown field/) });
    expect(parseCheck({ title: 't', command: { run: 'true', shell: 'zsh' } })).toMatchObject({ ok: false, path: ['command'], error: 'unknown field "shell"' });
  });

  it('refuses sampled checks whose shares do not add up', () => {
    const bad = parseCheck({ title: 's', http: { service: 'reviews', port: 9080, samples: 100, key: { regex: 'x' }, shares: { a: 0.5, b: 0.3 } } });
    expect(!bad.ok && bad.error).toMatch(/shares must sum to 1/);
  });
});
