// Provisioning end to end: choose the kernel layer, read the config, wait for the driver, plan, and apply (or only plan).

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { KernelFs } from '../platform/kernelfs.js';
import { readProvisionConfig, type ProvisionConfig } from './config.js';
import { readInventory } from './inventory.js';
import { checkReadiness, waitReady, type NotReady } from './readiness.js';
import { resolveGroup } from './group.js';
import { makePlan, type Plan, type HugepagesState } from './plan.js';
import { applyPlan, type ApplyResult } from './apply.js';
import { findHolders, nodesAtRisk, type NodeHolder } from './busy.js';
import { QatmgrError } from '../errors.js';
import { takeLock } from './lock.js';
import { prepareIdxd, refuseIdxdHolders, type IdxdReport } from './idxd-run.js';
import { applyIdxdPlan, type IdxdApplied } from './idxd-apply.js';

export interface ProvisionOptions {
  roots: Roots;
  configPath: string;
  /** --config was given: the file must exist. */
  configExplicit: boolean;
  env: NodeJS.ProcessEnv;
  cliPolicy?: string;
  cliGroup?: string;
  dryRun: boolean;
  /** Only fix /dev/vfio node group and mode (for the udev rule); no wait, no services, SR-IOV or binds. */
  permissionsOnly?: boolean;
  timeoutMs: number;
  pollMs?: number;
  bindRetries?: number;
  retryDelayMs?: number;
  /** The kernel layer to write through (the real machine, or a simulated kernel: the caller chooses). */
  kfs: KernelFs;
  /** --accel-config FILE: the IAA/DSA configuration (accel-config JSON); else AccelConfig= or accel-config's default. */
  accelConfigPath?: string;
  progress?: (line: string) => void;
  log?: (line: string) => void;
}

export interface ProvisionReport {
  kernel: string;
  configPath: string;
  warnings: string[];
  notReady: NotReady[];
  /** Processes holding /dev/vfio nodes the plan would take away (apply refuses to start while any). */
  holders: NodeHolder[];
  plan: Plan;
  dryRun: boolean;
  result: ApplyResult | undefined;
  /** The IAA/DSA part, when an accel-config file or IaaCrypto= asks for one. */
  idxd: IdxdReport | undefined;
  timings: { readyWaitMs: number; planMs: number; applyMs: number; retryWaitMs: number };
}

function hugepagesState(kfs: KernelFs, roots: Roots): HugepagesState {
  const base = path.join(roots.dev, 'hugepages');
  let baseIsDir = false;
  try {
    baseIsDir = kfs.stat(base).isDirectory;
  } catch {
    baseIsDir = false;
  }
  let qat: HugepagesState['qat'];
  try {
    const s = kfs.stat(path.join(base, 'qat'));
    qat = { gid: s.gid, mode: s.mode, isDirectory: s.isDirectory };
  } catch {
    qat = undefined;
  }
  return { baseIsDir, qat };
}

export async function provision(o: ProvisionOptions): Promise<ProvisionReport> {
  const kfs = o.kfs;
  const cfg: ProvisionConfig = readProvisionConfig({ configPath: o.configPath, explicit: o.configExplicit, env: o.env, cliPolicy: o.cliPolicy, cliGroup: o.cliGroup });
  let inv = readInventory(kfs, o.roots);
  let readyWaitMs = 0;
  let notReady: NotReady[] = [];
  if (inv.pfs.length > 0 && !o.permissionsOnly) {
    if (o.dryRun) {
      notReady = checkReadiness(kfs, o.roots, inv);
    } else {
      readyWaitMs = (await waitReady(kfs, o.roots, inv, { timeoutMs: o.timeoutMs, pollMs: o.pollMs ?? 100, progress: o.progress })).waitedMs;
      inv = readInventory(kfs, o.roots);
    }
  }
  const t0 = performance.now();
  // no QAT device: nothing will be given to the group, so a missing group is not an error here
  const noDevices = inv.pfs.length === 0 && inv.guestVfs.length === 0;
  let group: { name: string; gid: number };
  try {
    group = resolveGroup(cfg.group, o.roots.etc);
  } catch (e) {
    if (!noDevices) throw e;
    group = { name: cfg.group, gid: -1 };
  }
  const hp = noDevices ? { baseIsDir: false, qat: undefined } : hugepagesState(kfs, o.roots);
  const plan = makePlan({ inv, cfg, roots: o.roots, gid: group.gid, groupName: group.name, hugepages: hp, permissionsOnly: o.permissionsOnly });
  // the IAA/DSA plan is made (and checked) before anything is written, like the QAT one
  const idxd = o.permissionsOnly ? undefined : prepareIdxd(o, cfg, group.gid, group.name);
  const planMs = performance.now() - t0;
  const holders = plan.empty || o.permissionsOnly ? [] : findHolders(o.roots.pids, nodesAtRisk(inv, plan));
  if (!o.dryRun && holders.length > 0) {
    const lines = holders.map((h) => `  ${h.node} (VF ${h.vf}${h.pf !== '-' ? ` of PF ${h.pf}` : ''}) is open by pid ${h.pid} (${h.comm})`);
    throw new QatmgrError(
      'QATMGR_E_VF_IN_USE',
      `VFs this plan would remove or rebind are in use; nothing was changed. Stop these processes (QAT applications, VMs) and run again:\n${lines.join('\n')}`,
      { holders },
    );
  }
  if (!o.dryRun && idxd) refuseIdxdHolders(idxd.report);
  let result: ApplyResult | undefined;
  let applyMs = 0;
  const idxdToDo = idxd !== undefined && !idxd.report.plan.empty;
  if (!o.dryRun && (!plan.empty || idxdToDo)) {
    const lock = o.permissionsOnly ? undefined : takeLock(o.roots.run, o.roots.pids);
    try {
      const t1 = performance.now();
      // IAA/DSA first: it restores itself on failure, and is undone too if the QAT part fails after it
      let applied: IdxdApplied | undefined;
      if (idxdToDo) {
        applied = applyIdxdPlan(kfs, o.roots, idxd!.snapshot, idxd!.report.plan, { gid: group.gid, groupName: group.name, log: o.log });
        idxd!.report.result = applied.result;
      }
      if (!plan.empty) {
        try {
          result = await applyPlan(kfs, o.roots, inv, plan, {
            bindRetries: o.bindRetries ?? 5,
            retryDelayMs: o.retryDelayMs ?? 1000,
            kernelVfs: cfg.kernelVfs,
            log: o.log,
          });
        } catch (e) {
          if (!applied || !(e instanceof QatmgrError)) throw e;
          const left = applied.rollback();
          throw new QatmgrError(left.length ? 'QATMGR_E_ROLLBACK_INCOMPLETE' : e.code, `${e.message}; the IAA/DSA changes were ${left.length ? `not all undone:\n  ${left.join('\n  ')}` : 'undone too'}`, { ...e.details, idxdRollbackErrors: left });
        }
      }
      applyMs = performance.now() - t1;
    } finally {
      lock?.release();
    }
  }
  return {
    kernel: kfs.kind,
    configPath: cfg.path,
    warnings: cfg.warnings,
    notReady,
    holders,
    plan,
    dryRun: o.dryRun,
    result,
    idxd: idxd?.report,
    timings: { readyWaitMs, planMs, applyMs, retryWaitMs: result?.waitedMs ?? 0 },
  };
}

export { readProvisionConfig } from './config.js';
export { makePlan } from './plan.js';
export type { Plan, Step, PfPlan } from './plan.js';
