// Human-readable text of a provisioning plan and its outcome (tables for qatctl provision).

import { renderTable, wrapText } from '../text/table.js';
import type { ProvisionReport } from './index.js';
import type { IdxdReport } from './idxd-run.js';

/** The IAA/DSA part of the report: devices, what changes, the ordered steps. */
export function renderIdxd(r: IdxdReport, dryRun: boolean): string[] {
  const p = r.plan;
  const out: string[] = ['', `IAA/DSA: ${r.sources.join(', ')}`];
  if (p.devices.length > 0) {
    const rows = p.devices.map((d) => [
      d.dev, d.product, d.state.now === d.state.want ? d.state.now : `${d.state.now} -> ${d.state.want}`,
      d.wqs.map((w) => `${w.dev} ${w.now === w.want ? w.now : `${w.now} -> ${w.want}`}`).join(', ') || '-',
      d.ok ? 'ok' : 'reconfigure',
    ]);
    out.push(renderTable(['device', 'product', 'state', 'wqs', 'action'], rows).trimEnd());
  }
  for (const n of p.notes) out.push(`note: ${n}`);
  for (const h of r.holders) out.push(`in use: ${h.wq} has ${h.clients} client(s); applying would fail until they stop`);
  if (p.empty) out.push('nothing to do: the IAA/DSA devices already match the configuration');
  else {
    out.push(dryRun ? 'IAA/DSA plan (dry run, nothing written):' : 'IAA/DSA steps:');
    const show = (v: string): string => (v === '\n' ? '(empty)' : v);
    out.push(renderTable(['#', 'step', 'target', 'value', 'path', 'why'], p.steps.map((st, i) => [i + 1, st.op, st.target, show(st.value), st.path, st.why])).trimEnd());
  }
  if (r.result) out.push(`done: ${r.result.steps} IAA/DSA step(s), ${r.result.devicesChanged.length} device(s) reconfigured, ${r.result.wqsBound} wq(s) bound`);
  return out;
}

/** `width` (a terminal's) narrows the tables to fit; files and pipes get them whole. */
export function renderReport(r: ProvisionReport, width?: number): string {
  const p = r.plan;
  const out: string[] = [];
  out.push(`kernel: ${r.kernel}`);
  out.push(`config: ${r.configPath}`);
  out.push(`ServicesEnabled: ${p.services ?? '(kernel default kept)'}`);
  out.push(`POLICY: ${p.policy.value} (${p.policy.where}); ${p.policy.note}; ${p.policy.vfioVfs} VF(s) on vfio-pci after provisioning`);
  out.push(`group: ${p.groupName} (${p.gid >= 0 ? `gid ${p.gid}` : 'not found; not needed without QAT devices'})`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const n of p.notes) out.push(`note: ${n}`);
  for (const n of r.notReady) out.push(`not ready: ${n.what}: ${n.detail}; ${n.hint}`);
  for (const h of r.holders) out.push(`in use: ${h.node} (VF ${h.vf}) is open by pid ${h.pid} (${h.comm}); applying would fail until it is closed`);
  out.push('');
  if (p.pfs.length > 0) {
    const rows = p.pfs.map((pf) => [
      pf.bdf,
      pf.family,
      pf.services.change ? `${pf.services.now} -> ${pf.services.want}` : (pf.services.now ?? '-'),
      pf.state ?? '-',
      pf.vfs.change ? `${pf.vfs.now} -> ${pf.vfs.want}` : String(pf.vfs.now),
      pf.bindAllAfterEnable ? `all ${pf.vfs.want}` : String(pf.rebind.length),
      pf.bindAllAfterEnable ? 'new nodes' : String(pf.perms.length),
      pf.kernelVfs.length ? pf.kernelVfs.length : '-',
      pf.changes ? 'change' : 'ok',
    ]);
    out.push(renderTable(['PF', 'family', 'services', 'state', 'VFs', 'bind', 'perms', 'kernel VFs', 'action'], rows, { width }).trimEnd());
  }
  if (p.guestVfs.steps.length > 0) out.push(`guest VFs: ${p.guestVfs.targets.length} to bind, ${p.guestVfs.perms.length} node(s) to fix`);
  out.push(`hugepages: ${p.hugepages.path}: ${p.hugepages.action === 'none' ? 'ok' : p.hugepages.action === 'absent' ? 'no hugetlbfs' : p.hugepages.action}`);
  for (const i of p.ignored) out.push(`left alone: ${i.bdf} (${i.id}) ${i.reason}`);
  out.push('');
  if (p.empty) {
    out.push('nothing to do: the platform already matches the configuration');
  } else {
    out.push(r.dryRun ? 'plan (dry run, nothing written):' : 'steps:');
    const rows = p.steps.map((s, i) => [i + 1, s.op, s.target || '-', s.value, s.path, s.why]);
    out.push(renderTable(['#', 'step', 'target', 'value', 'path', 'why'], rows, { width }).trimEnd());
  }
  if (r.idxd) out.push(...renderIdxd(r.idxd, r.dryRun));
  if (r.result) {
    const res = r.result;
    out.push('');
    out.push(`done: ${res.pfsChanged.length} PF(s) changed, ${res.vfsBound} VF(s) bound, ${res.nodesFixed} /dev/vfio node(s) given to ${p.groupName}, hugepages ${res.hugepages} (apply ${r.timings.applyMs.toFixed(0)} ms, of which ${res.waitedMs.toFixed(0)} ms retry pauses)`);
  }
  // the tables already fit; long sentences (POLICY, notes, warnings) wrap under themselves
  const lines = width ? out.flatMap((l) => l.split('\n')).map((l) => wrapText(l, width, '    ')) : out;
  return `${lines.join('\n')}\n`;
}
