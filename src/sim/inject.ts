// Health faults on a simulated host, at generation (spec `fault=`) or at run time (`qatctl simulate --inject`).
//
// Each fault changes the files as the kernel would (src/kernel/health.ts): the heartbeat and RAS files of the
// "hardware", qat/state, sriov_numvfs and the PF driver binding through the simulated kernel (src/sim/kernel.ts).

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { FAMILIES, type Family } from '../kernel/catalogue.js';
import { VFIO_DRIVER } from '../kernel/drivers.js';
import { HEARTBEAT_DIR, HEARTBEAT_FILES, PF_AUTO_RESET_FILE, RAS_DIR, parseCounter, parseOnOff } from '../kernel/health.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import { SimKernelFs } from './kernel.js';
import { Writer, writePf, SIM_MARKER } from './generate.js';
import { simDebugfsDir, writeDebugfsValue, writeInPlace, removeFiles } from './health-files.js';
import { shareVfioNodes } from './userland.js';
import type { SimHost, SimPf } from './spec.js';
import { INJECT_KINDS, type InjectKind } from './fault-kinds.js';

export { INJECT_KINDS, INSTANT_KINDS, INJECT_HELP, type InjectKind } from './fault-kinds.js';

export interface InjectOptions {
  /** How long a reset keeps the device down, ms (default 300). */
  resetMs?: number;
  /** heartbeat-flap: how many fail/ok cycles (default 5) and the time between changes, ms (default 200). */
  flapCount?: number;
  flapPeriodMs?: number;
  /** One line per step, for the CLI. */
  onStep?: (line: string) => void;
}

export interface InjectReport {
  kind: InjectKind;
  pf: string;
  steps: string[];
}

function bad(msg: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_SIM_SPEC, msg);
}

function readHost(dir: string): SimHost {
  const marker = path.join(dir, SIM_MARKER);
  if (!fs.existsSync(marker)) throw bad(`${dir} is not a simulated host (no ${SIM_MARKER}); create one with qatctl simulate SPEC --out ${dir}`);
  return JSON.parse(fs.readFileSync(marker, 'utf8')) as SimHost;
}

/** A PF of the host description by BDF (`0000:70:00.0`, `70:00.0`) or index (`1`, `pf1`). */
export function resolvePf(host: SimHost, ref: string, dir: string): SimPf {
  const t = ref.trim().toLowerCase();
  const idx = /^(pf)?([0-9]{1,3})$/.exec(t);
  let pf: SimPf | undefined;
  if (idx) pf = host.pfs[Number(idx[2])];
  else {
    const a = parseBdf(t) ?? parseBdf(`0000:${t}`);
    if (a) pf = host.pfs.find((p) => p.bdf === formatBdf(a));
  }
  if (!pf) throw bad(`no PF "${ref}" in the simulated host ${dir} (PFs: ${host.pfs.map((p, i) => `${i}=${p.bdf}`).join(', ') || 'none'})`);
  return pf;
}

class Injector {
  readonly k: SimKernelFs;
  readonly fam: Family;
  readonly steps: string[] = [];

  constructor(readonly dir: string, readonly host: SimHost, readonly pf: SimPf, private readonly onStep?: (l: string) => void) {
    this.k = new SimKernelFs(dir, { env: {} });
    this.fam = FAMILIES[pf.family];
  }

  step(line: string): void {
    this.steps.push(line);
    this.onStep?.(line);
  }

  get devLink(): string { return path.join(this.k.roots.sys, 'bus', 'pci', 'devices', this.pf.bdf); }
  get present(): boolean { return fs.existsSync(this.devLink); }
  get dev(): string {
    if (!this.present) throw bad(`PF ${this.pf.bdf} is not in the system (it was removed: --inject add brings it back)`);
    return fs.realpathSync(this.devLink);
  }
  get hbDir(): string { return path.join(simDebugfsDir(this.k.roots, this.fam.pfDriver, this.pf.bdf), HEARTBEAT_DIR); }
  get rasDir(): string { return path.join(this.dev, RAS_DIR); }
  get state(): string { return fs.readFileSync(path.join(this.dev, 'qat', 'state'), 'utf8').trim(); }
  get autoReset(): boolean { return parseOnOff(fs.readFileSync(path.join(this.dev, PF_AUTO_RESET_FILE), 'utf8')) === true; }

  requireUp(what: string): void {
    if (this.state !== 'up') throw bad(`PF ${this.pf.bdf} is down: it has no ${what} (bring it up first: --inject up)`);
  }

  heartbeat(ok: boolean): void {
    this.requireUp('heartbeat files');
    const next = (f: string): number => (parseCounter(fs.readFileSync(path.join(this.hbDir, f), 'latin1')) ?? 0) + 1;
    writeDebugfsValue(path.join(this.hbDir, HEARTBEAT_FILES.sent), next(HEARTBEAT_FILES.sent));
    if (!ok) writeDebugfsValue(path.join(this.hbDir, HEARTBEAT_FILES.failed), next(HEARTBEAT_FILES.failed));
    writeDebugfsValue(path.join(this.hbDir, HEARTBEAT_FILES.status), ok ? 0 : -1);
    this.step(`${this.pf.bdf}: heartbeat/status ${ok ? '0 (alive)' : '-1 (not responding), queries_failed +1'}`);
  }

  ras(counter: 'errors_correctable' | 'errors_nonfatal' | 'errors_fatal'): void {
    this.requireUp('qat_ras counters');
    const p = path.join(this.rasDir, counter);
    const v = (parseCounter(fs.readFileSync(p, 'utf8')) ?? 0) + 1;
    writeInPlace(p, `${v}\n`);
    this.step(`${this.pf.bdf}: qat_ras/${counter} ${v}`);
  }

  /** VFs of the PF bound to vfio-pci now. */
  vfioVfs(): number {
    return fs.readdirSync(this.dev).filter((e) => /^virtfn[0-9]+$/.test(e)).filter((l) => {
      try { return path.basename(fs.readlinkSync(path.join(this.dev, l, 'driver'))) === VFIO_DRIVER; } catch { return false; }
    }).length;
  }

  /** Enable `count` VFs and bind them to vfio-pci through driver_override (provisioning's way). */
  enableVfs(count: number): void {
    this.k.writeFile(path.join(this.dev, 'sriov_numvfs'), String(count));
    const links = fs.readdirSync(this.dev).filter((e) => /^virtfn[0-9]+$/.test(e));
    for (const l of links) {
      const vf = fs.realpathSync(path.join(this.dev, l));
      if (fs.existsSync(path.join(vf, 'driver'))) continue;
      this.k.writeFile(path.join(vf, 'driver_override'), VFIO_DRIVER);
      this.k.writeFile(path.join(this.k.roots.sys, 'bus', 'pci', 'drivers', VFIO_DRIVER, 'bind'), path.basename(vf));
    }
    shareVfioNodes(this.k.roots);
    this.step(`${this.pf.bdf}: ${links.length} VFs enabled and bound to ${VFIO_DRIVER}`);
  }

  down(): void {
    this.k.writeFile(path.join(this.dev, 'qat', 'state'), 'down');
    this.step(`${this.pf.bdf}: qat/state down (VFs removed)`);
  }

  up(): void {
    this.k.writeFile(path.join(this.dev, 'qat', 'state'), 'up');
    this.step(`${this.pf.bdf}: qat/state up (SR-IOV stays off until enabled again)`);
  }

  async reset(ms: number): Promise<void> {
    this.requireUp('device to reset');
    const vfs = this.vfioVfs();
    this.k.stopDevice(this.dev);
    this.step(`${this.pf.bdf}: resetting: qat/state down, VFs and health files gone`);
    await new Promise((r) => setTimeout(r, ms));
    this.k.startDevice(this.dev);
    if (vfs > 0) this.enableVfs(this.pf.totalVfs);
    this.step(`${this.pf.bdf}: reset done after ${ms} ms: qat/state up${vfs > 0 ? ', VFs back' : ''}`);
  }

  remove(): void {
    const dev = this.dev;
    const drv = path.join(this.k.roots.sys, 'bus', 'pci', 'drivers', this.fam.pfDriver);
    if (fs.existsSync(path.join(dev, 'driver'))) this.k.writeFile(path.join(drv, 'unbind'), this.pf.bdf);
    const group = path.basename(fs.readlinkSync(path.join(dev, 'iommu_group')));
    fs.rmSync(path.join(this.k.roots.sys, 'kernel', 'iommu_groups', group), { recursive: true, force: true });
    fs.rmSync(this.devLink, { force: true });
    removeFiles(dev);
    this.step(`${this.pf.bdf}: removed from the system (driver unbound, VFs and device gone)`);
  }

  add(): void {
    if (this.present) throw bad(`PF ${this.pf.bdf} is already in the system`);
    writePf(new Writer(this.k.roots), this.pf, this.host.noiommu);
    shareVfioNodes(this.k.roots);
    this.step(`${this.pf.bdf}: added (${this.pf.vfs.length} VFs, qat/state ${this.pf.state})`);
  }

  autoResetTo(on: boolean): void {
    this.k.writeFile(path.join(this.dev, PF_AUTO_RESET_FILE), on ? 'on' : 'off');
    this.step(`${this.pf.bdf}: qat/auto_reset ${on ? 'on' : 'off'}`);
  }

  /** The faults that take no time. */
  instant(kind: InjectKind): void {
    switch (kind) {
      case 'heartbeat-fail': return this.heartbeat(false);
      case 'heartbeat-ok': return this.heartbeat(true);
      case 'correctable': return this.ras('errors_correctable');
      case 'nonfatal': return this.ras('errors_nonfatal');
      case 'fatal': this.ras('errors_fatal'); return this.heartbeat(false);
      case 'down': return this.down();
      case 'up': return this.up();
      case 'vfs-off':
        this.k.writeFile(path.join(this.dev, 'sriov_numvfs'), '0');
        return this.step(`${this.pf.bdf}: sriov_numvfs 0 (VFs removed)`);
      case 'vfs-on': return this.enableVfs(this.pf.totalVfs);
      case 'remove': return this.remove();
      case 'add': return this.add();
      case 'auto-reset-on': return this.autoResetTo(true);
      case 'auto-reset-off': return this.autoResetTo(false);
      default: throw bad(`fault "${kind}" takes time; use qatctl simulate --inject`);
    }
  }
}

function checkKind(kind: string): InjectKind {
  if (!(INJECT_KINDS as readonly string[]).includes(kind)) throw bad(`unknown fault "${kind}"; one of ${INJECT_KINDS.join(', ')}`);
  return kind as InjectKind;
}

/** Apply an instant fault now (a spec's `fault=`, or part of inject()). */
export function applyFault(dir: string, kindIn: string, pfRef: string): InjectReport {
  const kind = checkKind(kindIn);
  const host = readHost(dir);
  const j = new Injector(dir, host, resolvePf(host, pfRef, dir));
  j.instant(kind);
  return { kind, pf: j.pf.bdf, steps: j.steps };
}

/** Apply a fault, waiting where it takes time (reset, flapping, fatal with auto_reset on). */
export async function inject(dir: string, kindIn: string, pfRef: string, opts: InjectOptions = {}): Promise<InjectReport> {
  const kind = checkKind(kindIn);
  const host = readHost(dir);
  const j = new Injector(dir, host, resolvePf(host, pfRef, dir), opts.onStep);
  const resetMs = opts.resetMs ?? 300;
  if (kind === 'reset') await j.reset(resetMs);
  else if (kind === 'heartbeat-flap') {
    const n = opts.flapCount ?? 5;
    const period = opts.flapPeriodMs ?? 200;
    for (let i = 0; i < n; i++) {
      j.heartbeat(false);
      await new Promise((r) => setTimeout(r, period));
      j.heartbeat(true);
      if (i < n - 1) await new Promise((r) => setTimeout(r, period));
    }
  } else {
    const autoReset = kind === 'fatal' && j.autoReset;
    j.instant(kind);
    if (autoReset) await j.reset(resetMs);
  }
  return { kind, pf: j.pf.bdf, steps: j.steps };
}
