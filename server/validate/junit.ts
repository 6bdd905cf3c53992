/** JUnit XML, the format CI systems and instructors' dashboards read. */
export interface JUnitCase {
  suite: string;
  name: string;
  file: string;
  seconds: number;
  status: 'passed' | 'failed' | 'skipped';
  message?: string;
  output?: string;
}

const escape = (s: string) =>
  s
    // XML 1.0 cannot carry most control characters, terminal escapes included.
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

export function junitXml(cases: JUnitCase[]): string {
  const suites = new Map<string, JUnitCase[]>();
  for (const c of cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = (list: JUnitCase[], status: JUnitCase['status']) => list.filter((c) => c.status === status).length;
  lines.push(`<testsuites name="lesson validation" tests="${cases.length}" failures="${total(cases, 'failed')}" skipped="${total(cases, 'skipped')}">`);
  for (const [suite, list] of suites) {
    const time = list.reduce((a, c) => a + c.seconds, 0).toFixed(3);
    lines.push(`  <testsuite name="${escape(suite)}" tests="${list.length}" failures="${total(list, 'failed')}" skipped="${total(list, 'skipped')}" time="${time}">`);
    for (const c of list) {
      lines.push(`    <testcase classname="${escape(suite)}" name="${escape(c.name)}" file="${escape(c.file)}" time="${c.seconds.toFixed(3)}">`);
      if (c.status === 'failed') lines.push(`      <failure message="${escape(c.message ?? 'failed')}">${escape(c.message ?? '')}</failure>`);
      if (c.status === 'skipped') lines.push(`      <skipped message="${escape(c.message ?? '')}"/>`);
      if (c.output) lines.push(`      <system-out>${escape(c.output)}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
