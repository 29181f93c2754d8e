// Writes a simulated host (kernel-style sysfs, /dev/vfio, /proc facts) under one directory.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { FAMILIES } from '../kernel/catalogue.js';
import { simulatedRoots, type Roots } from '../config/roots.js';
import { parseBdf } from '../platform/pci.js';
import type { SimHost, SimPf, SimVf } from './spec.js';
import { writeUserland } from './userland.js';
import { writeBoundFiles, writeUpFiles } from './health-files.js';
import { applyFault } from './inject.js';
import { writeIdxd } from './idxd.js';

/** Marker file that says a directory is a simulated host (and what it holds). */
export const SIM_MARKER = 'sim.json';

/** The directory of a simulated host the roots point into (the parent of the sysfs root holding sim.json), if any. */
export function simulatedHostDir(roots: Roots): string | undefined {
  const dir = path.dirname(path.resolve(roots.sys));
  return fs.existsSync(path.join(dir, SIM_MARKER)) ? dir : undefined;
}

/** First IOMMU group number of VFs in a generated host (PF groups are 40 + PF index). */
export function vfGroupBase(pfCount: number): number {
  return Math.max(100, 40 + pfCount);
}

export interface GenerateOptions {
  /** Replace an existing simulated host in `dir` (never anything else). */
  force?: boolean;
}

export interface GeneratedHost {
  dir: string;
  roots: Roots;
  host: SimHost;
}

export function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

function cpuRange(first: number, count: number): string {
  return count === 1 ? `${first}` : `${first}-${first + count - 1}`;
}

/** Hex cpumask as the kernel prints it (32-bit words, comma separated). */
function cpuMask(first: number, count: number, total: number): string {
  const words = Math.max(1, Math.ceil(total / 32));
  const out: string[] = [];
  for (let w = words - 1; w >= 0; w--) {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const c = w * 32 + b;
      if (c >= first && c < first + count) v |= 1 << b;
    }
    out.push((v >>> 0).toString(16).padStart(8, '0'));
  }
  const s = out.join(',');
  return total <= 32 ? (parseInt(out[out.length - 1], 16) >>> 0).toString(16) : s;
}

/** PCI domain/bus directory a device lives under: `devices/pci0000:6b`. */
export function busDir(bdf: string): string {
  const a = parseBdf(bdf)!;
  return `pci${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}`;
}

/** Writes files, links and directories of a simulated tree (exported for the kernel model). */
export class Writer {
  constructor(readonly roots: Roots) {}
  file(p: string, content: string): void {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  link(p: string, target: string): void {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync(target, p);
  }
  dir(p: string): void {
    fs.mkdirSync(p, { recursive: true });
  }
}

/** Device directory of a BDF under the simulated sysfs. */
export function deviceDir(roots: Roots, bdf: string): string {
  return path.join(roots.sys, 'devices', busDir(bdf), bdf);
}

export function writeVf(w: Writer, vf: SimVf, vfId: number, vfDriver: string, numaNode: number, pfBdf: string | undefined, noiommu: boolean): void {
  const { sys, dev } = w.roots;
  const d = deviceDir(w.roots, vf.bdf);
  const driverName = vf.driver === 'vfio-pci' ? 'vfio-pci' : vf.driver === 'kernel' ? vfDriver : undefined;
  w.dir(d);
  w.file(path.join(d, 'vendor'), '0x8086\n');
  w.file(path.join(d, 'device'), `${hex4(vfId)}\n`);
  w.file(path.join(d, 'numa_node'), `${numaNode}\n`);
  w.file(path.join(d, 'class'), '0x0b4000\n');
  w.file(path.join(d, 'uevent'), `${driverName ? `DRIVER=${driverName}\n` : ''}PCI_ID=8086:${vfId.toString(16).toUpperCase()}\nPCI_SLOT_NAME=${vf.bdf}\n`);
  w.file(path.join(d, 'driver_override'), `${vf.driver === 'vfio-pci' ? 'vfio-pci' : '(null)'}\n`);
  w.link(path.join(d, 'iommu_group'), path.relative(d, path.join(sys, 'kernel', 'iommu_groups', String(vf.iommuGroup))));
  if (pfBdf) w.link(path.join(d, 'physfn'), `../${pfBdf}`);
  w.link(path.join(sys, 'bus', 'pci', 'devices', vf.bdf), path.relative(path.join(sys, 'bus', 'pci', 'devices'), d));
  w.link(path.join(sys, 'kernel', 'iommu_groups', String(vf.iommuGroup), 'devices', vf.bdf), path.relative(path.join(sys, 'kernel', 'iommu_groups', String(vf.iommuGroup), 'devices'), d));
  if (driverName) {
    const drv = path.join(sys, 'bus', 'pci', 'drivers', driverName);
    w.link(path.join(d, 'driver'), path.relative(d, drv));
    w.link(path.join(drv, vf.bdf), path.relative(drv, d));
  }
  if (vf.driver === 'vfio-pci') {
    w.file(path.join(dev, 'vfio', `${noiommu ? 'noiommu-' : ''}${vf.iommuGroup}`), '');
  }
}

/** A PF's device directory, links, qat/ and health files, and its VFs as the host description has them. */
export function writePf(w: Writer, pf: SimPf, noiommu: boolean): void {
  const { sys } = w.roots;
  const fam = FAMILIES[pf.family];
  const d = deviceDir(w.roots, pf.bdf);
  w.dir(d);
  w.file(path.join(d, 'vendor'), '0x8086\n');
  w.file(path.join(d, 'device'), `${hex4(fam.pfId)}\n`);
  w.file(path.join(d, 'numa_node'), `${pf.numaNode}\n`);
  w.file(path.join(d, 'class'), '0x0b4000\n');
  w.file(path.join(d, 'sriov_totalvfs'), `${pf.totalVfs}\n`);
  w.file(path.join(d, 'sriov_numvfs'), `${pf.vfs.length}\n`);
  w.file(path.join(d, 'sriov_vf_device'), `${fam.vfId.toString(16)}\n`);
  w.file(path.join(d, 'uevent'), `DRIVER=${fam.pfDriver}\nPCI_ID=8086:${fam.pfId.toString(16).toUpperCase()}\nPCI_SLOT_NAME=${pf.bdf}\n`);
  w.file(path.join(d, 'qat', 'cfg_services'), `${pf.services}\n`);
  w.file(path.join(d, 'qat', 'state'), `${pf.state}\n`);
  w.file(path.join(d, 'qat', 'num_rps'), '64\n');
  writeBoundFiles(w.roots, d, fam.pfDriver, pf.bdf);
  if (pf.state === 'up') writeUpFiles(w.roots, d, fam.pfDriver, pf.bdf);
  const drv = path.join(sys, 'bus', 'pci', 'drivers', fam.pfDriver);
  w.link(path.join(d, 'driver'), path.relative(d, drv));
  w.link(path.join(drv, pf.bdf), path.relative(drv, d));
  w.link(path.join(d, 'iommu_group'), path.relative(d, path.join(sys, 'kernel', 'iommu_groups', String(pf.iommuGroup))));
  w.link(path.join(sys, 'kernel', 'iommu_groups', String(pf.iommuGroup), 'devices', pf.bdf), path.relative(path.join(sys, 'kernel', 'iommu_groups', String(pf.iommuGroup), 'devices'), d));
  w.link(path.join(sys, 'bus', 'pci', 'devices', pf.bdf), path.relative(path.join(sys, 'bus', 'pci', 'devices'), d));
  pf.vfs.forEach((vf, k) => {
    w.link(path.join(d, `virtfn${k}`), `../${vf.bdf}`);
    writeVf(w, vf, fam.vfId, fam.vfDriver, pf.numaNode, pf.bdf, noiommu);
  });
}

function writeDriverDirs(w: Writer, host: SimHost): void {
  const drivers = new Set<string>(['vfio-pci']);
  for (const pf of host.pfs) {
    drivers.add(FAMILIES[pf.family].pfDriver);
    if (pf.vfs.some((v) => v.driver === 'kernel')) drivers.add(FAMILIES[pf.family].vfDriver);
  }
  for (const v of host.guestVfs) if (v.driver === 'kernel') drivers.add(FAMILIES[v.family].vfDriver);
  for (const name of drivers) {
    const drv = path.join(w.roots.sys, 'bus', 'pci', 'drivers', name);
    w.file(path.join(drv, 'bind'), '');
    w.file(path.join(drv, 'unbind'), '');
    if (name === 'vfio-pci') {
      w.file(path.join(drv, 'new_id'), '');
      w.file(path.join(drv, 'remove_id'), '');
    }
  }
}

function writeCpus(w: Writer, host: SimHost): void {
  const sys = w.roots.sys;
  const per = Math.floor(host.cpus / host.numaNodes);
  w.file(path.join(sys, 'devices', 'system', 'cpu', 'online'), `${cpuRange(0, host.cpus)}\n`);
  w.file(path.join(sys, 'devices', 'system', 'cpu', 'possible'), `${cpuRange(0, host.cpus)}\n`);
  w.file(path.join(sys, 'devices', 'system', 'node', 'online'), `${cpuRange(0, host.numaNodes)}\n`);
  w.file(path.join(sys, 'devices', 'system', 'node', 'possible'), `${cpuRange(0, host.numaNodes)}\n`);
  for (let n = 0; n < host.numaNodes; n++) {
    const first = n * per;
    const count = n === host.numaNodes - 1 ? host.cpus - first : per;
    const nd = path.join(sys, 'devices', 'system', 'node', `node${n}`);
    w.file(path.join(nd, 'cpulist'), `${cpuRange(first, count)}\n`);
    w.file(path.join(nd, 'cpumap'), `${cpuMask(first, count, host.cpus)}\n`);
  }
}

/** A proc/modules line; the size column depends on the module only, so a reloaded module reads the same. */
export function moduleLine(mod: string, state: string): string {
  let h = 0;
  for (const c of mod) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${mod} ${65536 + (h % 64) * 4096} 0 - ${state} 0x0000000000000000\n`;
}

function writeProc(w: Writer, host: SimHost): void {
  const lines = Object.entries(host.modules).map(([m, state]) => moduleLine(m, state));
  w.file(path.join(w.roots.proc, 'modules'), lines.join(''));
  w.file(path.join(w.roots.proc, 'cmdline'), `${host.cmdline}\n`);
}

/** Remove a previous simulated host; refuses a directory that is not one (no marker and not empty). */
function clearDir(dir: string, force: boolean): void {
  if (!fs.existsSync(dir)) return;
  const entries = fs.readdirSync(dir);
  // the run directory alone may be there first: the daemon locks it before it lays the host down
  if (entries.every((e) => e === 'run')) return;
  if (!entries.includes(SIM_MARKER)) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SIM_SPEC, `${dir} exists and is not a simulated host (no ${SIM_MARKER}); refusing to overwrite it`);
  }
  if (!force) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_SIM_SPEC, `${dir} already holds a simulated host; pass --force to replace it`);
  }
  for (const sub of ['sys', 'dev', 'proc', 'lib', SIM_MARKER]) fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
}

/** Lay down `host` under `dir`. The run directory (`<dir>/run/qat`) is created and kept across regenerations. */
export function generateHost(dir: string, host: SimHost, opts: GenerateOptions = {}): GeneratedHost {
  // like sysfs itself: 0755 directories and 0644 files, whatever the caller's umask
  const old = process.umask(0o022);
  try {
    return generateHostInner(dir, host, opts);
  } finally {
    process.umask(old);
  }
}

function generateHostInner(dir: string, host: SimHost, opts: GenerateOptions): GeneratedHost {
  const abs = path.resolve(dir);
  clearDir(abs, opts.force ?? false);
  const roots = simulatedRoots(abs);
  const w = new Writer(roots);
  w.dir(path.join(roots.sys, 'bus', 'pci', 'devices'));
  w.dir(path.join(roots.sys, 'kernel', 'iommu_groups'));
  w.dir(path.join(roots.dev, 'vfio'));
  w.file(path.join(roots.dev, 'vfio', 'vfio'), '');
  w.dir(path.join(roots.dev, 'hugepages'));
  w.dir(roots.run);
  writeDriverDirs(w, host);
  for (const pf of host.pfs) writePf(w, pf, host.noiommu);
  for (const vf of host.guestVfs) writeVf(w, vf, FAMILIES[vf.family].vfId, FAMILIES[vf.family].vfDriver, vf.numaNode, undefined, host.noiommu);
  if (host.idxd) writeIdxd(roots, host.idxd, (bdf) => deviceDir(roots, bdf));
  writeCpus(w, host);
  writeProc(w, host);
  w.dir(path.join(roots.etc, 'sysconfig'));
  w.dir(roots.firmware);
  writeUserland(roots, host);
  fs.writeFileSync(path.join(abs, SIM_MARKER), `${JSON.stringify(host, null, 2)}\n`);
  for (const f of host.faults ?? []) applyFault(abs, f.kind, f.pf);
  return { dir: abs, roots, host };
}
