// Applies an IAA/DSA plan through a KernelFs; any failure restores every device it touched (and iaa_crypto, zswap)
// to the snapshot taken before, by planning from the state found back to that snapshot.

import type { Roots } from '../config/roots.js';
import type { KernelFs } from '../platform/kernelfs.js';
import { QatmgrError } from '../errors.js';
import { describeCmdStatus, parseIdxdName, type WqDriver } from '../kernel/idxd.js';
import { readIdxdInventory, type IdxdDevice, type IdxdInventory } from '../idxd/inventory.js';
import { makeIdxdPlan, type IdxdPlan, type IdxdStep } from './idxd-plan.js';
import type { IdxdWanted, WantedDevice } from './idxd-config.js';
import { errnoText, StepFailure } from './apply.js';

export interface IdxdApplyOptions {
  gid: number;
  groupName: string;
  log?: (line: string) => void;
}

export interface IdxdApplyResult {
  steps: number;
  devicesChanged: string[];
  wqsBound: number;
}

export interface IdxdApplied {
  result: IdxdApplyResult;
  /** Put everything back as it was before the apply (used when a later part of provisioning fails). */
  rollback(): string[];
}

/** The writable configuration of the snapshot's devices, as a wanted description. */
export function snapshotWanted(snap: IdxdInventory, devices: string[]): IdxdWanted {
  const wqKeys = ['group_id', 'mode', 'size', 'priority', 'block_on_fault', 'threshold', 'type', 'name', 'driver_name', 'max_transfer_size', 'max_batch_size', 'ats_disable'];
  const groupKeys = ['read_buffers_reserved', 'read_buffers_allowed', 'use_read_buffer_limit', 'traffic_class_a', 'traffic_class_b'];
  const pick = (a: Record<string, string>, keys: string[]): Record<string, string> => Object.fromEntries(keys.filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
  const out: WantedDevice[] = snap.devices.filter((d: IdxdDevice) => devices.includes(d.dev)).map((d) => ({
    dev: d.dev, type: d.type, id: d.id, where: `snapshot of ${d.dev}`, enable: d.state === 'enabled',
    attrs: pick(d.attrs, ['read_buffer_limit']),
    groups: d.groups.map((g) => ({ dev: g.dev, id: g.id, attrs: pick(g.attrs, groupKeys), where: `snapshot of ${g.dev}` })),
    engines: new Map(d.engines.filter((e) => e.groupId >= 0).map((e) => [e.id, { group: e.groupId, where: `snapshot of ${e.dev}` }])),
    wqs: d.wqs.map((w) => ({ dev: w.dev, id: w.id, attrs: pick(w.attrs, wqKeys), enable: w.state === 'enabled', driver: (w.driver ?? undefined) as WqDriver | undefined, where: `snapshot of ${w.dev}` })),
  }));
  return {
    sources: ['snapshot'], devices: out, notes: [],
    crypto: snap.iaaCrypto.loaded ? { syncMode: snap.iaaCrypto.syncMode ?? undefined, verifyCompress: snap.iaaCrypto.verifyCompress ?? undefined, where: 'snapshot' } : undefined,
    zswap: undefined,
  };
}

function runStep(kfs: KernelFs, s: IdxdStep, gid: number): void {
  const where = `${s.op} ${s.target}`;
  try {
    if (s.op === 'modprobe') kfs.modprobe(s.target);
    else if (s.op === 'rmmod') kfs.rmmod(s.target);
    else if (s.op === 'perms') {
      const st = kfs.stat(s.path);
      kfs.chown(s.path, st.uid, gid);
      kfs.chmod(s.path, 0o660);
    } else kfs.writeFile(s.path, s.value);
  } catch (e) {
    const { errno, reason } = errnoText(e);
    throw new StepFailure(where, s.op === 'modprobe' || s.op === 'rmmod' ? s.op : s.op === 'perms' ? 'chown/chmod' : 'write', s.path, errno, reason);
  }
}

/** The device's cmd_status decoded, for a failed enable or bind (the driver's reason). */
function cmdStatusOf(kfs: KernelFs, roots: Roots, target: string): string | undefined {
  const inv = readIdxdInventory(kfs, roots);
  const p = parseIdxdName(target);
  if (!p) return undefined;
  const d = p.kind === 'device' ? inv.devices.find((x) => x.dev === target) : inv.devices.find((x) => x.id === p.dev);
  return d ? describeCmdStatus(d.cmdStatus) : undefined;
}

/** Restore the snapshot (best effort): returns what could not be put back. */
export function restoreIdxd(kfs: KernelFs, roots: Roots, snap: IdxdInventory, devices: string[], opts: IdxdApplyOptions): string[] {
  const errors: string[] = [];
  const now = readIdxdInventory(kfs, roots);
  // zswap first, while the algorithm it may point at still exists
  const zc = `${roots.sys}/module/zswap/parameters`;
  for (const [k, v] of [['compressor', snap.zswap.compressor], ['enabled', snap.zswap.enabled]] as const) {
    if (v !== null && now.zswap[k] !== v) {
      try { kfs.writeFile(`${zc}/${k}`, v); } catch (e) { errors.push(`zswap ${k} back to ${v}: ${errnoText(e).errno}`); }
    }
  }
  let plan: IdxdPlan;
  try {
    plan = makeIdxdPlan({ inv: readIdxdInventory(kfs, roots), wanted: snapshotWanted(snap, devices), roots, gid: opts.gid, groupName: opts.groupName, cryptoModule: { loaded: snap.iaaCrypto.loaded, registered: snap.iaaCrypto.registered } });
  } catch (e) {
    return [...errors, `the way back could not be planned: ${(e as Error).message}`];
  }
  for (const s of plan.steps) {
    if (s.op === 'perms') continue;
    try {
      runStep(kfs, s, opts.gid);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  // owners and modes of user wq nodes, and the last command status, as they were
  const after = readIdxdInventory(kfs, roots);
  for (const d of snap.devices.filter((x) => devices.includes(x.dev))) {
    const cur = after.devices.find((x) => x.dev === d.dev);
    for (const w of d.wqs) {
      const c = cur?.wqs.find((x) => x.id === w.id);
      if (!w.node || !c?.node) {
        if (w.node && !c?.node) errors.push(`${w.node.path} did not come back`);
        continue;
      }
      try {
        if (c.node.uid !== w.node.uid || c.node.gid !== w.node.gid) kfs.chown(w.node.path, w.node.uid, w.node.gid);
        if (c.node.mode !== w.node.mode) kfs.chmod(w.node.path, Number.parseInt(w.node.mode, 8));
      } catch (e) {
        errors.push(`restore ${w.node.path}: ${errnoText(e).errno}`);
      }
    }
    if (cur && d.cmdStatus === '0' && cur.cmdStatus !== '0') {
      try { kfs.writeFile(`${roots.sys}/bus/dsa/devices/${d.dev}/cmd_status`, '0'); } catch (e) { errors.push(`clear ${d.dev}/cmd_status: ${errnoText(e).errno}`); }
    }
  }
  return errors;
}

/** Apply `plan` (made from `snap`); on failure restore and throw QATMGR_E_PROVISION_FAILED or QATMGR_E_ROLLBACK_INCOMPLETE. */
export function applyIdxdPlan(kfs: KernelFs, roots: Roots, snap: IdxdInventory, plan: IdxdPlan, opts: IdxdApplyOptions): IdxdApplied {
  let done = 0;
  for (const s of plan.steps) {
    try {
      runStep(kfs, s, opts.gid);
      done++;
    } catch (e) {
      const f = e as StepFailure;
      const cmd = s.op === 'enable' || s.op === 'bind' ? cmdStatusOf(kfs, roots, s.target) : undefined;
      opts.log?.(`step ${done + 1} (${s.op} ${s.target}) failed: ${f.errno}${cmd ? `, cmd_status ${cmd}` : ''}; restoring ${plan.touched.join(', ') || 'iaa_crypto/zswap'}`);
      const errors = restoreIdxd(kfs, roots, snap, plan.touched, opts);
      const details = { step: f.step, op: f.op, path: f.path, errno: f.errno, cmdStatus: cmd ?? null, rolledBack: plan.touched, rollbackErrors: errors };
      const head = `step ${done + 1} "${s.op} ${s.target}": ${f.op} ${f.path}: ${f.errno} (${f.reason})${cmd ? `; the driver says ${cmd}` : ''}`;
      if (errors.length) throw new QatmgrError('QATMGR_E_ROLLBACK_INCOMPLETE', `${head}; restoring IAA/DSA failed too, left:\n  ${errors.join('\n  ')}`, details);
      throw new QatmgrError('QATMGR_E_PROVISION_FAILED', `${head}; rolled back: ${plan.touched.join(', ') || 'iaa_crypto/zswap'} as before`, details);
    }
  }
  const result: IdxdApplyResult = { steps: done, devicesChanged: plan.devices.filter((d) => d.cycle).map((d) => d.dev), wqsBound: plan.steps.filter((s) => s.op === 'bind').length };
  return { result, rollback: () => restoreIdxd(kfs, roots, snap, plan.touched, opts) };
}
