// Rescan (SIGHUP, `qatctl rescan`, or the host changed): re-read devices (and settings) into the running manager;
// held sections keep their VFs, and sections that had to wait for a held one form as soon as it is released.

import type { Settings } from './config/settings.js';
import type { Logger } from './log.js';
import { grantRules, applyGrantRules, type Manager } from './manager.js';
import { discover, type Inventory } from './platform/discover.js';
import { readPfTable } from './platform/pfs.js';
import { readCpuTable } from './platform/cpus.js';
import { buildPlan, type PlannedSection } from './sections/plan.js';
import { reconcileSections, type ReconcileReport } from './sections/reconcile.js';
import type { Section, ReleaseReason, Holder } from './sections/allocator.js';
import { buildPfReplies } from './protocol/replies.js';
import { isQatmgrError } from './errors.js';

export interface RescanOptions {
  /** What asked for it, for logs and events: `sighup`, `admin`, `host: ...`, `readmit PF ...`. */
  trigger?: string;
  /**
   * Follow the host even when no section can be formed (no VF left, or fewer VFs than the policy needs): free
   * sections of VFs that are gone are withdrawn and the daemon serves what is left. Without it such a scan throws
   * and changes nothing (an operator's SIGHUP keeps serving the previous devices).
   */
  allowEmpty?: boolean;
}

/** Codes of scans that found too little to form a section (allowEmpty turns them into an empty plan). */
const NOTHING_TO_SERVE = new Set(['QATMGR_E_NO_DEVICES', 'QATMGR_E_NO_VFIO_DIR', 'QATMGR_E_POLICY_TOO_LARGE']);

/** Sections waiting for held ones, with the plan they come from (one per manager). */
interface Waiting {
  plan: PlannedSection[];
  present: Set<string>;
  on: Set<string>;
  queued: boolean;
}
const waiting = new WeakMap<Manager, Waiting>();
const listening = new WeakSet<Manager>();

/**
 * Rescan with `settings` (freshly parsed, or the manager's own for a host change). Throws (leaving the manager
 * untouched) when the new scan or plan fails, unless `allowEmpty`.
 */
export function rescan(manager: Manager, settings: Settings, log: Logger, opts: RescanOptions = {}): ReconcileReport {
  const trigger = opts.trigger ?? 'rescan';
  const nothing = (e: unknown): boolean => opts.allowEmpty === true && isQatmgrError(e) && NOTHING_TO_SERVE.has(e.code);
  let inventory: Inventory;
  try {
    inventory = discover(settings.roots, log, { probe: settings.vfioProbe });
  } catch (e) {
    if (!nothing(e)) throw e;
    log.warn({ event: 'rescan_empty', code: (e as Error & { code: string }).code, trigger }, `${trigger}: ${(e as Error).message}; free sections of VFs that are gone are withdrawn`);
    inventory = emptyInventory(settings);
  }
  let plan: PlannedSection[];
  try {
    // capabilities are read again, through the daemon's source as it is now (a re-admitted VF is queried again)
    const caps = manager.capabilities();
    plan = buildPlan(inventory, settings.policy, (vf) => caps.capsFor(vf), { perNode: settings.numaAware !== 'off' });
  } catch (e) {
    if (!nothing(e)) throw e;
    log.warn({ event: 'rescan_empty', code: (e as Error & { code: string }).code, trigger }, `${trigger}: ${(e as Error).message}; no section can be formed, free sections are withdrawn until there are VFs enough`);
    plan = [];
  }
  // checked before anything changes: reservations that do not fit the new plan fail the rescan
  const rules = grantRules(settings, plan.length);
  const present = new Set(inventory.vfs.map((v) => v.bdf));
  // the inventory first: observers of the reshape (the admin API's indexes) read it
  manager.inventory = inventory;
  manager.ctx.pf = buildPfReplies(manager.ctx.version, inventory.pfs);
  const report = apply(manager, plan, present, trigger, log);
  manager.health.setInventory(inventory);
  if (settings.policy !== manager.settings.policy) {
    log.info({ event: 'rescan_policy', was: manager.settings.policy, now: settings.policy }, `policy ${manager.settings.policy} -> ${settings.policy}; held sections keep their VFs until released`);
  }
  if (settings.numaAware !== manager.settings.numaAware) {
    log.info({ event: 'rescan_numa', was: manager.settings.numaAware, now: settings.numaAware }, `NumaAware ${manager.settings.numaAware} -> ${settings.numaAware}; held sections keep their VFs`);
  }
  manager.settings = {
    ...manager.settings, policy: settings.policy, debug: settings.debug, servicesEnabled: settings.servicesEnabled, warnings: settings.warnings,
    numaAware: settings.numaAware, shares: settings.shares, sharesDir: settings.sharesDir,
  };
  applyGrantRules(manager, rules, log);
  for (const b of report.addedVfs) log.info({ event: 'vf_added', bdf: b }, `VF ${b} is new and available`);
  if (report.withdrawnVfs.length) log.warn({ event: 'vf_withdrawn', bdf: report.withdrawnVfs }, `VFs gone from the system, withdrawn from free sections: ${report.withdrawnVfs.join(', ')}`);
  for (const r of report.removedWhileHeld) log.warn({ event: 'vf_removed_while_held', bdf: r.bdf, section: r.section, pid: r.pid }, `VF ${r.bdf} is gone but section ${r.section} is still held by pid ${r.pid}; out of service once released`);
  log.info({ event: 'rescan', trigger, sectionsBefore: report.sectionsBefore, sectionsAfter: report.sectionsAfter, added: report.addedVfs.length, removed: report.removedVfs.length }, `rescan (${trigger}): ${report.sectionsBefore} -> ${report.sectionsAfter} sections, +${report.addedVfs.length}/-${report.removedVfs.length} VFs`);
  return report;
}

/** No VF at all (the scan found none, or no /dev/vfio): the PF table and CPUs as they are. */
function emptyInventory(settings: Settings): Inventory {
  let pfs: Inventory['pfs'] = [];
  try { pfs = readPfTable(settings.roots); } catch { /* no PF table either */ }
  return { vfs: [], pfs, vm: pfs.length === 0, cpus: readCpuTable(settings.roots), skipped: [] };
}

/** Reconcile, re-encode in the background, and remember what waits for a release. */
function apply(manager: Manager, plan: PlannedSection[], present: Set<string>, trigger: string, log: Logger): ReconcileReport {
  const report = reconcileSections(manager.allocator, plan, present, trigger);
  void manager.ctx.replies.warmLater();
  if (report.waitingOn.length) {
    waiting.set(manager, { plan, present, on: new Set(report.waitingOn), queued: false });
    listenForReleases(manager, log);
    if (report.deferred.length) log.info({ event: 'rescan_deferred', sections: report.deferred, waitingOn: report.waitingOn }, `sections ${report.deferred.join(', ')} overlap held sections ${report.waitingOn.join(', ')}; they form as soon as those are released`);
  } else {
    waiting.delete(manager);
  }
  return report;
}

/** When a section that others wait for is released, apply the last plan again (after the release has settled). */
function listenForReleases(manager: Manager, log: Logger): void {
  if (listening.has(manager)) return;
  listening.add(manager);
  manager.allocator.on('release', (s: Section, _h: Holder, _r: ReleaseReason) => {
    const w = waiting.get(manager);
    if (!w || w.queued || !w.on.has(s.name)) return;
    w.queued = true;
    setImmediate(() => {
      if (waiting.get(manager) !== w) return; // a newer scan replaced the plan
      const before = manager.allocator.sections.length;
      const report = apply(manager, w.plan, w.present, `release of ${s.name}`, log);
      log.info({ event: 'rescan_released', section: s.name, sectionsBefore: before, sectionsAfter: report.sectionsAfter, stillWaiting: report.deferred }, `section ${s.name} released: sections re-formed (${before} -> ${report.sectionsAfter})${report.deferred.length ? `; ${report.deferred.join(', ')} still wait` : ''}`);
    });
  });
}
