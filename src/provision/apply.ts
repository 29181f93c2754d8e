// Applies a provisioning plan through a KernelFs, PF by PF; on any failure restores every PF already touched and reports step, path and errno.

import path from 'node:path';
import os from 'node:os';
import util from 'node:util';
import type { Roots } from '../config/roots.js';
import type { KernelFs, NodeStat } from '../platform/kernelfs.js';
import { readPf, readPfVfs, readVf, pciDevicesDir, type Inventory, type PfInfo, type VfInfo } from './inventory.js';
import type { Plan, PfPlan, Step } from './plan.js';
import { NODE_GROUP_BITS, HUGEPAGES_GROUP_BITS } from './plan.js';
import { VFIO_DRIVER } from '../kernel/drivers.js';
import { isKernelVf, type KernelVfRule } from './config.js';
import { QatmgrError } from '../errors.js';

export interface ApplyOptions {
  /** Attempts per VF bind (upstream: 5). */
  bindRetries: number;
  /** Pause between bind attempts (upstream: 1 s). */
  retryDelayMs: number;
  kernelVfs: KernelVfRule;
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface ApplyResult {
  pfsChanged: string[];
  vfsBound: number;
  nodesFixed: number;
  hugepages: 'none' | 'created' | 'fixed' | 'absent';
  /** Time spent in deliberate waits (bind retry pauses), excluded from performance figures. */
  waitedMs: number;
}

/** A failed kernel write: which step, which file, which errno. */
export class StepFailure extends Error {
  constructor(readonly step: string, readonly op: string, readonly path: string, readonly errno: string, readonly reason: string) {
    super(`step "${step}": ${op} ${path}: ${errno} (${reason})`);
  }
}

export function errnoText(e: unknown): { errno: string; reason: string } {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string') return { errno: 'EIO', reason: err?.message ?? String(e) };
  const code = err.code;
  const n = (os.constants.errno as Record<string, number>)[code];
  const reason = n !== undefined ? util.getSystemErrorMap().get(-n)?.[1] ?? code : (err?.message ?? String(e));
  return { errno: code, reason };
}

interface VfSnap {
  bdf: string;
  driver: string | undefined;
  override: string;
}

interface NodeSnap {
  path: string;
  stat: NodeStat;
}

/** What a PF (or the set of guest VFs) looked like before we touched it. */
interface Snapshot {
  target: string;
  pf: PfInfo | undefined;
  vfs: VfSnap[];
  nodes: NodeSnap[];
}

function snapVfs(vfs: VfInfo[]): { vfs: VfSnap[]; nodes: NodeSnap[] } {
  return {
    vfs: vfs.map((v) => ({ bdf: v.bdf, driver: v.driver, override: v.override })),
    nodes: vfs.filter((v) => v.node && v.nodeStat).map((v) => ({ path: v.node!, stat: v.nodeStat! })),
  };
}

const PF_STEP_OPS = new Set<Step['op']>(['state', 'services', 'numvfs']);

class Applier {
  waitedMs = 0;
  vfsBound = 0;
  nodesFixed = 0;
  private readonly drivers: string;
  constructor(readonly kfs: KernelFs, readonly roots: Roots, readonly plan: Plan, readonly opts: ApplyOptions) {
    this.drivers = path.join(roots.sys, 'bus', 'pci', 'drivers');
  }

  write(step: string, p: string, value: string): void {
    try {
      this.kfs.writeFile(p, value);
    } catch (e) {
      const { errno, reason } = errnoText(e);
      throw new StepFailure(step, 'write', p, errno, reason);
    }
  }

  private async sleep(ms: number): Promise<void> {
    const t0 = performance.now();
    await (this.opts.sleep ?? ((m: number) => new Promise<void>((r) => setTimeout(r, m))))(ms);
    this.waitedMs += performance.now() - t0;
  }

  private ensureDriver(driver: string): void {
    if (this.kfs.exists(path.join(this.drivers, driver))) return;
    const mod = driver === VFIO_DRIVER ? 'vfio-pci' : `qat_${driver}`;
    try {
      this.kfs.modprobe(mod);
    } catch (e) {
      const { errno, reason } = errnoText(e);
      throw new StepFailure(`load driver ${driver}`, 'modprobe', mod, errno, reason);
    }
  }

  /** driver_override + bind, unbinding first; bounded retries (upstream: 5 tries, 1 s apart). */
  async bindVf(bdf: string, driver: string): Promise<void> {
    this.ensureDriver(driver);
    const dev = path.join(pciDevicesDir(this.roots), bdf);
    const step = `bind ${bdf} to ${driver}`;
    let last: StepFailure | undefined;
    for (let attempt = 1; attempt <= this.opts.bindRetries; attempt++) {
      try {
        let cur: string | undefined;
        try {
          cur = path.basename(this.kfs.readlink(path.join(dev, 'driver')));
        } catch {
          cur = undefined;
        }
        if (cur === driver) return;
        if (cur) this.write(step, path.join(this.drivers, cur, 'unbind'), bdf);
        this.write(step, path.join(dev, 'driver_override'), driver);
        this.write(step, path.join(this.drivers, driver, 'bind'), bdf);
        this.vfsBound++;
        return;
      } catch (e) {
        if (!(e instanceof StepFailure)) throw e;
        last = e;
        if (attempt < this.opts.bindRetries) {
          this.opts.log?.(`${step}: ${e.errno} on ${e.path}; retry ${attempt + 1}/${this.opts.bindRetries} in ${this.opts.retryDelayMs} ms`);
          await this.sleep(this.opts.retryDelayMs);
        }
      }
    }
    throw new StepFailure(`${step} (${this.opts.bindRetries} attempts)`, last!.op, last!.path, last!.errno, last!.reason);
  }

  /** chgrp + g+rw on a VF's /dev/vfio node. */
  fixNode(vf: VfInfo): void {
    if (!vf.node || !vf.nodeStat) return;
    const want = vf.nodeStat.mode | NODE_GROUP_BITS;
    if (vf.nodeStat.gid === this.plan.gid && vf.nodeStat.mode === want) return;
    const step = `give ${vf.node} to group ${this.plan.groupName}`;
    try {
      this.kfs.chown(vf.node, vf.nodeStat.uid, this.plan.gid);
    } catch (e) {
      const { errno, reason } = errnoText(e);
      throw new StepFailure(step, 'chown', vf.node, errno, reason);
    }
    try {
      this.kfs.chmod(vf.node, want);
    } catch (e) {
      const { errno, reason } = errnoText(e);
      throw new StepFailure(step, 'chmod', vf.node, errno, reason);
    }
    this.nodesFixed++;
  }

  async applyPf(pf: PfInfo, pp: PfPlan): Promise<void> {
    for (const s of pp.steps) {
      if (PF_STEP_OPS.has(s.op)) this.write(`${s.op} ${s.value} on ${pf.bdf}`, s.path, s.value);
    }
    const kv = this.opts.kernelVfs;
    if (pp.bindAllAfterEnable) {
      for (const vf of readPfVfs(this.kfs, this.roots, pf.dir, pf.family)) {
        await this.bindVf(vf.bdf, isKernelVf(kv, vf.bdf) ? pf.family.vfDriver : VFIO_DRIVER);
      }
    } else {
      for (const t of pp.rebind) await this.bindVf(t.bdf, t.driver);
    }
    for (const vf of readPfVfs(this.kfs, this.roots, pf.dir, pf.family)) {
      if (vf.driver === VFIO_DRIVER) this.fixNode(vf);
    }
  }

  // ---- rollback ------------------------------------------------------------------------------------
  private tryDo(errors: string[], what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const { errno, reason } = errnoText(e);
      errors.push(`${what}: ${errno} (${reason})`);
    }
  }

  restore(snap: Snapshot, errors: string[]): void {
    const k = this.kfs;
    const pf = snap.pf;
    if (pf) {
      const cur = readPf(k, this.roots, pf.bdf, pf.family);
      const attr = (a: string): string => path.join(pf.dir, a);
      const servicesDiffer = pf.servicesText !== undefined && cur.servicesText !== pf.servicesText;
      if (servicesDiffer) {
        if (cur.state === 'up') this.tryDo(errors, `write down to ${attr('qat/state')}`, () => k.writeFile(attr('qat/state'), 'down'));
        this.tryDo(errors, `write ${pf.servicesText} to ${attr('qat/cfg_services')}`, () => k.writeFile(attr('qat/cfg_services'), pf.servicesText!));
      }
      const now = readPf(k, this.roots, pf.bdf, pf.family);
      if (now.numVfs !== pf.numVfs) {
        if (now.numVfs !== 0) this.tryDo(errors, `write 0 to ${attr('sriov_numvfs')}`, () => k.writeFile(attr('sriov_numvfs'), '0'));
        if (pf.numVfs !== 0) this.tryDo(errors, `write ${pf.numVfs} to ${attr('sriov_numvfs')}`, () => k.writeFile(attr('sriov_numvfs'), String(pf.numVfs)));
      }
      const st = readPf(k, this.roots, pf.bdf, pf.family).state;
      if (pf.state !== undefined && st !== pf.state) this.tryDo(errors, `write ${pf.state} to ${attr('qat/state')}`, () => k.writeFile(attr('qat/state'), pf.state!));
    }
    for (const v of snap.vfs) {
      const dev = path.join(pciDevicesDir(this.roots), v.bdf);
      if (!k.exists(dev)) {
        errors.push(`VF ${v.bdf} did not come back`);
        continue;
      }
      const cur = readVf(k, this.roots, v.bdf, 0, (pf?.family ?? { vfDriver: '' }) as PfInfo['family']);
      if (cur.driver !== v.driver) {
        if (cur.driver) this.tryDo(errors, `unbind ${v.bdf} from ${cur.driver}`, () => k.writeFile(path.join(this.drivers, cur.driver!, 'unbind'), v.bdf));
        this.tryDo(errors, `restore driver_override of ${v.bdf}`, () => k.writeFile(path.join(dev, 'driver_override'), v.override === '(null)' ? '\n' : v.override));
        if (v.driver) this.tryDo(errors, `bind ${v.bdf} to ${v.driver}`, () => k.writeFile(path.join(this.drivers, v.driver!, 'bind'), v.bdf));
      } else if (cur.override !== v.override) {
        this.tryDo(errors, `restore driver_override of ${v.bdf}`, () => k.writeFile(path.join(dev, 'driver_override'), v.override === '(null)' ? '\n' : v.override));
      }
    }
    for (const n of snap.nodes) {
      if (!k.exists(n.path)) {
        errors.push(`${n.path} did not come back`);
        continue;
      }
      this.tryDo(errors, `restore owner of ${n.path}`, () => k.chown(n.path, n.stat.uid, n.stat.gid));
      this.tryDo(errors, `restore mode of ${n.path}`, () => k.chmod(n.path, n.stat.mode));
    }
  }
}

/** Apply `plan` (made from `inv`). Throws QATMGR_E_PROVISION_FAILED (rolled back) or QATMGR_E_ROLLBACK_INCOMPLETE. */
export async function applyPlan(kfs: KernelFs, roots: Roots, inv: Inventory, plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const a = new Applier(kfs, roots, plan, opts);
  const touched: Snapshot[] = [];
  let hugepages: ApplyResult['hugepages'] = plan.hugepages.action === 'absent' ? 'absent' : 'none';
  let hpUndo: (() => void) | undefined;
  const changed: string[] = [];
  try {
    for (const pp of plan.pfs) {
      if (!pp.changes) continue;
      const pf = inv.pfs.find((p) => p.bdf === pp.bdf)!;
      touched.push({ target: pf.bdf, pf, ...snapVfs(pf.vfs) });
      opts.log?.(`PF ${pf.bdf}: ${pp.steps.map((s) => `${s.op} ${s.value}`).join(', ')}`);
      await a.applyPf(pf, pp);
      changed.push(pf.bdf);
    }
    if (plan.guestVfs.steps.length > 0) {
      touched.push({ target: 'guest VFs', pf: undefined, ...snapVfs(inv.guestVfs) });
      for (const t of plan.guestVfs.targets) await a.bindVf(t.bdf, t.driver);
      for (const vf of inv.guestVfs) {
        const cur = readVf(kfs, roots, vf.bdf, vf.index, vf.family);
        if (cur.driver === VFIO_DRIVER) a.fixNode(cur);
      }
    }
    if (plan.hugepages.action === 'create' || plan.hugepages.action === 'fix') {
      const p = plan.hugepages.path;
      const step = `hugepages directory ${p}`;
      const guard = (op: string, fn: () => void): void => {
        try {
          fn();
        } catch (e) {
          const { errno, reason } = errnoText(e);
          throw new StepFailure(step, op, p, errno, reason);
        }
      };
      if (plan.hugepages.action === 'create') {
        guard('mkdir', () => kfs.mkdir(p, 0o755));
        hpUndo = () => kfs.rmdir(p);
        guard('chown', () => kfs.chown(p, 0, plan.gid));
        guard('chmod', () => kfs.chmod(p, 0o755 | HUGEPAGES_GROUP_BITS));
        hugepages = 'created';
      } else {
        const old = kfs.stat(p);
        hpUndo = () => {
          kfs.chown(p, old.uid, old.gid);
          kfs.chmod(p, old.mode);
        };
        guard('chown', () => kfs.chown(p, old.uid, plan.gid));
        guard('chmod', () => kfs.chmod(p, old.mode | HUGEPAGES_GROUP_BITS));
        hugepages = 'fixed';
      }
    }
  } catch (caught) {
    // anything else that goes wrong half-way (an unreadable link, a bug) still restores what was touched
    let e: StepFailure;
    if (caught instanceof StepFailure) e = caught;
    else {
      const { errno, reason } = errnoText(caught);
      const p = (caught as NodeJS.ErrnoException)?.path ?? '-';
      e = new StepFailure('unexpected error', (caught as NodeJS.ErrnoException)?.syscall ?? 'apply', p, errno, reason);
    }
    const errors: string[] = [];
    if (hpUndo) {
      try {
        hpUndo();
      } catch (u) {
        errors.push(`undo hugepages directory: ${errnoText(u).errno}`);
      }
    }
    for (const snap of [...touched].reverse()) a.restore(snap, errors);
    const what = touched.map((t) => t.target).join(', ') || 'nothing had been changed';
    const details = { step: e.step, op: e.op, path: e.path, errno: e.errno, rolledBack: touched.map((t) => t.target), rollbackErrors: errors };
    if (errors.length > 0) {
      throw new QatmgrError('QATMGR_E_ROLLBACK_INCOMPLETE', `${e.message}; rollback of ${what} was incomplete:\n  ${errors.join('\n  ')}`, details);
    }
    throw new QatmgrError('QATMGR_E_PROVISION_FAILED', `${e.message}; rolled back: ${what}`, details);
  }
  return { pfsChanged: changed, vfsBound: a.vfsBound, nodesFixed: a.nodesFixed, hugepages, waitedMs: a.waitedMs };
}
