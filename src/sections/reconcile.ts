// Rescan, pure part: merge a freshly built plan into the live sections without touching any held section.

import type { Allocator, Section } from './allocator.js';
import { SECTION_PREFIX, type PlannedSection } from './plan.js';

export interface ReconcileReport {
  /** VFs present now that were in no section before. */
  addedVfs: string[];
  /** VFs gone from the machine. */
  removedVfs: string[];
  /** Removed VFs that sat in free sections: withdrawn (those sections are gone). */
  withdrawnVfs: string[];
  /** Removed VFs still in a held section: kept for the holder, out of service once it is released. */
  removedWhileHeld: Array<{ bdf: string; section: string; pid: number }>;
  /** New sections that overlap a held section's VFs: formed when those are released. */
  deferred: string[];
  /** Held sections whose release changes the sections (deferred ones overlap them, or they hold removed VFs). */
  waitingOn: string[];
  sectionsBefore: number;
  sectionsAfter: number;
}

const vfsOf = (devices: Array<{ vf: { bdf: string } }>): string[] => devices.map((d) => d.vf.bdf);
const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const suffix = (name: string): number => {
  const m = /([0-9]+)$/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
};

/**
 * Held sections keep their Section object (sessions point at it), name and VFs. Every free section is replaced by
 * the new plan's sections that do not overlap a held one; names stay SSL_INT_<n>, avoiding names a holder uses.
 * `present` = every VF the rescan found.
 */
export function reconcileSections(allocator: Allocator, plan: PlannedSection[], present: Set<string>, trigger = 'rescan'): ReconcileReport {
  const before = allocator.sections;
  const known = new Set<string>();
  for (const s of before) for (const b of vfsOf(s.plan.devices)) known.add(b);
  const held = before.filter((s) => s.holder !== null);
  const heldVfs = new Map<string, Section>();
  for (const s of held) for (const b of vfsOf(s.plan.devices)) heldVfs.set(b, s);

  const report: ReconcileReport = {
    addedVfs: [...present].filter((b) => !known.has(b)).sort(),
    removedVfs: [...known].filter((b) => !present.has(b)).sort(),
    withdrawnVfs: [],
    removedWhileHeld: [],
    deferred: [],
    waitingOn: [],
    sectionsBefore: before.length,
    sectionsAfter: 0,
  };
  for (const b of report.removedVfs) {
    const h = heldVfs.get(b);
    if (h) report.removedWhileHeld.push({ bdf: b, section: h.name, pid: h.holder!.pid });
    else report.withdrawnVfs.push(b);
  }

  const next: Section[] = [...held];
  const used = new Set(held.map((s) => s.name));
  const waiting = new Set(report.removedWhileHeld.map((r) => r.section));
  let spare = 0;
  for (const p of plan) {
    const bdfs = vfsOf(p.devices);
    if (held.some((h) => sameSet(vfsOf(h.plan.devices), bdfs))) continue;
    if (bdfs.some((b) => heldVfs.has(b))) {
      report.deferred.push(p.name);
      for (const b of bdfs) { const h = heldVfs.get(b); if (h) waiting.add(h.name); }
      continue;
    }
    let name = p.name;
    if (used.has(name)) {
      while (used.has(`${SECTION_PREFIX}${plan.length + spare}`)) spare++;
      name = `${SECTION_PREFIX}${plan.length + spare++}`;
    }
    used.add(name);
    next.push({ index: -1, name, plan: { ...p, name }, holder: null });
  }
  next.sort((a, b) => suffix(a.name) - suffix(b.name));
  before.splice(0, before.length, ...next);
  before.forEach((s, i) => (s.index = i));

  // a removed VF that a holder still has stays in its section, out of service for whoever comes next
  for (const r of report.removedWhileHeld) allocator.setOutOfService(r.bdf, 'removed from the system');
  for (const s of before) {
    for (const b of vfsOf(s.plan.devices)) {
      if (present.has(b) && allocator.isOutOfService(b)) allocator.setOutOfService(b, undefined);
    }
  }
  report.sectionsAfter = before.length;
  report.waitingOn = [...waiting].sort((a, b) => suffix(a) - suffix(b));
  allocator.emit('reshape', { trigger, sectionsBefore: report.sectionsBefore, sectionsAfter: report.sectionsAfter });
  return report;
}
