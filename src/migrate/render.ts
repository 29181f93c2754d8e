// Human report of a migration plan: sources, the generated file with its reasons, what does not carry over, build changes.

import type { MigrationPlan } from './plan.js';
import type { WriteOutcome } from './write.js';

const STATUS_TEXT = { found: 'FOUND', check: 'CHECK', applies: 'APPLIES' } as const;

export function renderPlan(plan: MigrationPlan, outPath: string, wrote: WriteOutcome | undefined): string {
  const out: string[] = [];
  out.push('Sources:');
  for (const s of plan.sources) {
    const secs = s.sections.map((x) => `[${x.name}] cy=${x.cyInstances} dc=${x.dcInstances} processes=${x.processes} LimitDevAccess=${x.limitDevAccess}`);
    out.push(`  ${s.path}: ${s.family ?? '?'}${s.vf ? ' VF' : ''} device ${s.device ?? '?'}, services ${s.services || 'none'}${secs.length ? `; ${secs.join('; ')}` : '; no user section'}`);
  }
  out.push('', `${outPath}${wrote ? ` (${wrote.action}${wrote.backup ? `, previous kept as ${wrote.backup}` : ''})` : ' (not written; add --write)'}:`);
  for (const l of plan.sysconfigText.replace(/\n$/, '').split('\n')) out.push(`  ${l}`);
  out.push('', 'Does not carry over:');
  const order = { found: 0, applies: 1, check: 2 } as const;
  for (const f of [...plan.notCarried].sort((a, b) => order[a.status] - order[b.status])) {
    out.push(`  ${STATUS_TEXT[f.status].padEnd(7)} ${f.title}`);
    for (const e of f.evidence) out.push(`          seen: ${e}`);
    out.push(`          consequence: ${f.consequence}`);
    out.push(`          do: ${f.action}`);
  }
  out.push('', 'Application build changes:');
  for (const b of plan.buildChanges) out.push(`  - ${b}`);
  return `${out.join('\n')}\n`;
}
