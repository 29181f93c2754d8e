// The IAA/DSA part of `qatctl provision`: find what is wanted (accel-config JSON, IaaCrypto=), read the devices,
// plan, and name the wqs in use that the plan would take away.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { under } from '../config/roots.js';
import type { KernelFs } from '../platform/kernelfs.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { readIdxdInventory, type IdxdInventory } from '../idxd/inventory.js';
import { expandIaaCrypto, mergeWanted, readAccelConfigFile, type IdxdWanted } from './idxd-config.js';
import { makeIdxdPlan, type IdxdPlan } from './idxd-plan.js';
import type { ProvisionConfig } from './config.js';
import type { IdxdApplyResult } from './idxd-apply.js';

/** accel-config's own default file (ACCFG_CONF_FILE), read when present and nothing else is named. */
export function defaultAccelConfigPath(roots: Roots): string {
  return under(roots.etc, 'accel-config', 'accel-config.conf');
}

export interface IdxdReport {
  /** Where the wanted configuration came from. */
  sources: string[];
  plan: IdxdPlan;
  /** wqs the plan would unbind that have clients (open /dev nodes or kernel users). */
  holders: Array<{ wq: string; clients: number }>;
  result: IdxdApplyResult | undefined;
}

export interface IdxdPrepared {
  report: IdxdReport;
  snapshot: IdxdInventory;
}

/**
 * The JSON file: --accel-config (must exist), else AccelConfig= (must exist), else accel-config's default when
 * present. Returns undefined when no IAA/DSA configuration is asked for.
 */
export function prepareIdxd(o: { roots: Roots; kfs: KernelFs; accelConfigPath?: string; cwd?: string }, cfg: ProvisionConfig, gid: number, groupName: string): IdxdPrepared | undefined {
  let file: string | undefined;
  if (o.accelConfigPath !== undefined) file = o.accelConfigPath;
  else if (cfg.accelConfig) {
    file = path.resolve(path.dirname(cfg.path), cfg.accelConfig.path);
    if (!fs.existsSync(file)) throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${cfg.accelConfig.where}="${cfg.accelConfig.path}": no such file`);
  } else if (fs.existsSync(defaultAccelConfigPath(o.roots))) file = defaultAccelConfigPath(o.roots);
  if (!file && !cfg.iaaCrypto) return undefined;
  const inv = readIdxdInventory(o.kfs, o.roots);
  const fromFile: IdxdWanted | undefined = file ? readAccelConfigFile(file) : undefined;
  const fromSetting = cfg.iaaCrypto ? expandIaaCrypto(cfg.iaaCrypto, inv) : undefined;
  const wanted = mergeWanted(fromFile, fromSetting)!;
  const plan = makeIdxdPlan({ inv, wanted, roots: o.roots, gid, groupName });
  if (gid < 0 && plan.steps.some((s) => s.op === 'perms')) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `group "${groupName}" is not in ${under(o.roots.etc, 'group')}: user wqs would have no group to give their /dev nodes to (create it, or set QAT_USER_GROUP / --group)`);
  }
  const byWq = new Map(inv.devices.flatMap((d) => d.wqs.map((w) => [w.dev, w] as const)));
  const holders = plan.unbinds.map((n) => ({ wq: n, clients: byWq.get(n)?.clients ?? 0 })).filter((h) => h.clients > 0);
  return { report: { sources: wanted.sources, plan, holders, result: undefined }, snapshot: inv };
}

/** Refuse to start while a wq the plan unbinds has clients (the kernel would tear it down under them). */
export function refuseIdxdHolders(r: IdxdReport): void {
  if (r.holders.length === 0) return;
  const lines = r.holders.map((h) => `  ${h.wq}: ${h.clients} client(s) (processes with its /dev node open, or kernel users)`);
  throw new QatmgrError('QATMGR_E_IDXD_IN_USE', `IAA/DSA wqs this plan would unbind are in use; nothing was changed. Stop their users and run again:\n${lines.join('\n')}`, { holders: r.holders });
}
