// SIGHUP: re-read settings and devices and merge the result into the running manager (held sections keep their VFs).

import type { Settings } from './config/settings.js';
import type { Logger } from './log.js';
import { grantRules, applyGrantRules, type Manager } from './manager.js';
import { discover } from './platform/discover.js';
import { SysfsCapabilitySource } from './devices/capabilities.js';
import { buildPlan } from './sections/plan.js';
import { reconcileSections, type ReconcileReport } from './sections/reconcile.js';
import { buildPfReplies } from './protocol/replies.js';

/**
 * Rescan with `settings` (freshly parsed). Throws (leaving the manager untouched) when the new scan or plan fails,
 * e.g. no device left or a policy too large: the daemon keeps serving what it had.
 */
export function rescan(manager: Manager, settings: Settings, log: Logger): ReconcileReport {
  const inventory = discover(settings.roots, log);
  const caps = new SysfsCapabilitySource(settings.roots);
  const plan = buildPlan(inventory, settings.policy, (vf) => caps.capsFor(vf), { perNode: settings.numaAware !== 'off' });
  // checked before anything changes: reservations that do not fit the new plan fail the rescan
  const rules = grantRules(settings, plan.length);
  const present = new Set(inventory.vfs.map((v) => v.bdf));
  const report = reconcileSections(manager.allocator, plan, present);
  manager.ctx.replies.warm();
  manager.inventory = inventory;
  manager.ctx.pf = buildPfReplies(manager.ctx.version, inventory.pfs);
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
  if (report.deferred.length) log.info({ event: 'rescan_deferred', sections: report.deferred }, `sections ${report.deferred.join(', ')} overlap held sections; they form at a rescan after those are released`);
  log.info({ event: 'rescan', sectionsBefore: report.sectionsBefore, sectionsAfter: report.sectionsAfter, added: report.addedVfs.length, removed: report.removedVfs.length }, `rescan: ${report.sectionsBefore} -> ${report.sectionsAfter} sections, +${report.addedVfs.length}/-${report.removedVfs.length} VFs`);
  return report;
}
