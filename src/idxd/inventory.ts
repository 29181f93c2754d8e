// Reads the Intel DSA/IAA world through Roots: /sys/bus/dsa devices, groups, engines, wqs (every attribute), the
// dsa-bus drivers, iaa_crypto's attributes, deflate-iaa in <proc>/crypto, zswap's parameters, /dev/<type>/wqN.M nodes.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { KernelFs, NodeStat } from '../platform/kernelfs.js';
import { IAA_ALGORITHM, IAA_CRYPTO_MODULE, IDXD_MODULE, describeCmdStatus, idxdProduct, parseIdxdName, type IdxdType } from '../kernel/idxd.js';
import type { DeviceFacts, WqFacts } from '../kernel/idxd-sysfs.js';

/** What the inventory reads with (a KernelFs, or RealKernelFs for a plain read of the machine). */
export type IdxdReader = Pick<KernelFs, 'readFile' | 'readdir' | 'readlink' | 'exists' | 'stat'>;

export interface IdxdWq {
  /** `wq1.0`. */
  dev: string;
  id: number;
  state: string;
  mode: string;
  size: number;
  groupId: number;
  priority: number;
  type: string;
  /** The wq's `name` attribute. */
  name: string;
  /** `driver_name` (kernel 6.7+), null when the attribute is missing. */
  driverName: string | null;
  /** The dsa-bus driver it is bound to now (`driver` link), null when disabled. */
  driver: string | null;
  threshold: number;
  blockOnFault: number;
  maxBatchSize: number | null;
  maxTransferSize: number;
  clients: number;
  cdevMinor: number | null;
  /** `/dev/<type>/wqN.M` when it exists, with owner and mode. */
  node: { path: string; uid: number; gid: number; mode: string } | null;
  /** Every attribute file as read (trailing newline removed). */
  attrs: Record<string, string>;
}

export interface IdxdGroup {
  dev: string;
  id: number;
  workQueues: string[];
  engines: string[];
  attrs: Record<string, string>;
}

export interface IdxdEngine {
  dev: string;
  id: number;
  groupId: number;
}

export interface IdxdDevice {
  /** `iax1`, `dsa0`. */
  dev: string;
  type: IdxdType;
  product: 'DSA' | 'IAA';
  id: number;
  /** PCI address of the function, from the device directory's parent. */
  pci: string | null;
  numaNode: number;
  state: string;
  configurable: boolean;
  version: string;
  pasidEnabled: boolean;
  maxGroups: number;
  maxWorkQueues: number;
  maxEngines: number;
  maxWorkQueuesSize: number;
  maxBatchSize: number | null;
  maxTransferSize: number;
  /** The dsa-bus driver the device is bound to (`idxd` when enabled). */
  driver: string | null;
  cmdStatus: string;
  /** cmd_status decoded (IDXD_SCMD_* name and meaning), null when 0. */
  cmdStatusText: string | null;
  clients: number;
  attrs: Record<string, string>;
  groups: IdxdGroup[];
  engines: IdxdEngine[];
  wqs: IdxdWq[];
}

export interface IdxdInventory {
  /** `<sys>/bus/dsa` exists (the idxd bus is registered). */
  bus: boolean;
  modules: { idxd: string | null; iaa_crypto: string | null };
  /** Drivers registered on the dsa bus. */
  drivers: string[];
  devices: IdxdDevice[];
  iaaCrypto: {
    /** `/sys/bus/dsa/drivers/crypto` exists. */
    loaded: boolean;
    syncMode: string | null;
    verifyCompress: string | null;
    /** wqs bound to iaa_crypto now. */
    wqs: string[];
    /** deflate-iaa is listed in <proc>/crypto. */
    registered: boolean;
  };
  zswap: { present: boolean; enabled: string | null; compressor: string | null };
}

function read(r: IdxdReader, p: string): string | undefined {
  try {
    return r.readFile(p).replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

function list(r: IdxdReader, p: string): string[] {
  try {
    return r.readdir(p).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

function linkBase(r: IdxdReader, p: string): string | null {
  try {
    return path.basename(r.readlink(p));
  } catch {
    return null;
  }
}

function num(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : dflt;
}

/** Files of a conf device directory (attributes only: no links, no child devices). */
function readAttrs(r: IdxdReader, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list(r, dir)) {
    if (e === 'uevent' || parseIdxdName(e)) continue;
    const p = path.join(dir, e);
    let st: NodeStat;
    try {
      st = r.stat(p);
    } catch {
      continue;
    }
    if (st.isDirectory || linkBase(r, p) !== null) continue;
    const v = read(r, p);
    if (v !== undefined) out[e] = v;
  }
  return out;
}

export function dsaBusDir(roots: Roots): string {
  return path.join(roots.sys, 'bus', 'dsa');
}

/** `<proc>/modules` state of a module, null when not loaded. */
function moduleState(r: IdxdReader, roots: Roots, mod: string): string | null {
  const text = read(r, path.join(roots.proc, 'modules')) ?? '';
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === mod) return f[4] ?? 'Live';
  }
  return null;
}

/** Whether <proc>/crypto lists an algorithm with this driver name. */
export function cryptoHasDriver(text: string, driver: string): boolean {
  return text.split('\n').some((l) => /^driver\s*:/.test(l) && l.split(':')[1].trim() === driver);
}

function readWq(r: IdxdReader, roots: Roots, type: IdxdType, dir: string, name: string, id: number): IdxdWq {
  const a = readAttrs(r, dir);
  const nodePath = path.join(roots.dev, type, name);
  let node: IdxdWq['node'] = null;
  if (r.exists(nodePath)) {
    try {
      const st = r.stat(nodePath);
      node = { path: nodePath, uid: st.uid, gid: st.gid, mode: `0${(st.mode & 0o777).toString(8)}` };
    } catch {
      node = null;
    }
  }
  return {
    dev: name, id,
    state: a.state ?? 'unknown', mode: a.mode ?? 'shared', size: num(a.size, 0), groupId: num(a.group_id, -1),
    priority: num(a.priority, 0), type: a.type ?? 'none', name: a.name ?? '', driverName: a.driver_name ?? null,
    driver: linkBase(r, path.join(dir, 'driver')), threshold: num(a.threshold, 0), blockOnFault: num(a.block_on_fault, 0),
    maxBatchSize: a.max_batch_size !== undefined ? num(a.max_batch_size, 0) : null, maxTransferSize: num(a.max_transfer_size, 0),
    clients: num(a.clients, 0), cdevMinor: a.cdev_minor !== undefined ? num(a.cdev_minor, -1) : null, node, attrs: a,
  };
}

/** Every dsa/iax device with its groups, engines and wqs, in device id order. */
export function readIdxdInventory(r: IdxdReader, roots: Roots): IdxdInventory {
  const bus = dsaBusDir(roots);
  const devicesDir = path.join(bus, 'devices');
  const names = list(r, devicesDir);
  const byDev = new Map<number, IdxdDevice>();
  const children: Array<{ kind: 'wq' | 'engine' | 'group'; dev: number; id: number; name: string }> = [];
  for (const n of names) {
    const p = parseIdxdName(n);
    if (!p) continue;
    if (p.kind === 'device') {
      const dir = path.join(devicesDir, n);
      const a = readAttrs(r, dir);
      let pci: string | null = null;
      try {
        pci = path.basename(path.dirname(path.resolve(devicesDir, r.readlink(dir))));
      } catch {
        pci = null;
      }
      byDev.set(p.id, {
        dev: n, type: p.type, product: idxdProduct(p.type) as 'DSA' | 'IAA', id: p.id, pci,
        numaNode: num(a.numa_node, -1), state: a.state ?? 'unknown', configurable: a.configurable === '1', version: a.version ?? '',
        pasidEnabled: a.pasid_enabled === '1', maxGroups: num(a.max_groups, 0), maxWorkQueues: num(a.max_work_queues, 0),
        maxEngines: num(a.max_engines, 0), maxWorkQueuesSize: num(a.max_work_queues_size, 0),
        maxBatchSize: a.max_batch_size !== undefined ? num(a.max_batch_size, 0) : null, maxTransferSize: num(a.max_transfer_size, 0),
        driver: linkBase(r, path.join(dir, 'driver')), cmdStatus: a.cmd_status ?? '0', cmdStatusText: describeCmdStatus(a.cmd_status) ?? null,
        clients: num(a.clients, 0), attrs: a, groups: [], engines: [], wqs: [],
      });
    } else {
      children.push({ ...p, name: n });
    }
  }
  for (const c of children) {
    const d = byDev.get(c.dev);
    if (!d) continue;
    const dir = path.join(devicesDir, c.name);
    if (c.kind === 'wq') d.wqs.push(readWq(r, roots, d.type, dir, c.name, c.id));
    else if (c.kind === 'engine') d.engines.push({ dev: c.name, id: c.id, groupId: num(read(r, path.join(dir, 'group_id')), -1) });
    else {
      const a = readAttrs(r, dir);
      const words = (k: string): string[] => (a[k] ?? '').split(/\s+/).filter(Boolean);
      d.groups.push({ dev: c.name, id: c.id, workQueues: words('work_queues'), engines: words('engines'), attrs: a });
    }
  }
  const devices = [...byDev.values()].sort((x, y) => x.id - y.id);
  for (const d of devices) {
    d.wqs.sort((x, y) => x.id - y.id);
    d.engines.sort((x, y) => x.id - y.id);
    d.groups.sort((x, y) => x.id - y.id);
  }
  const cryptoDir = path.join(bus, 'drivers', 'crypto');
  const loaded = r.exists(cryptoDir);
  const zswapDir = path.join(roots.sys, 'module', 'zswap', 'parameters');
  return {
    bus: r.exists(bus),
    modules: { idxd: moduleState(r, roots, IDXD_MODULE), iaa_crypto: moduleState(r, roots, IAA_CRYPTO_MODULE) },
    drivers: list(r, path.join(bus, 'drivers')),
    devices,
    iaaCrypto: {
      loaded,
      syncMode: loaded ? read(r, path.join(cryptoDir, 'sync_mode')) ?? null : null,
      verifyCompress: loaded ? read(r, path.join(cryptoDir, 'verify_compress')) ?? null : null,
      wqs: loaded ? list(r, cryptoDir).filter((n) => parseIdxdName(n)?.kind === 'wq') : [],
      registered: cryptoHasDriver(read(r, path.join(roots.proc, 'crypto')) ?? '', IAA_ALGORITHM),
    },
    zswap: { present: r.exists(zswapDir), enabled: read(r, path.join(zswapDir, 'enabled')) ?? null, compressor: read(r, path.join(zswapDir, 'compressor')) ?? null },
  };
}

/** The rule inputs of a device (kernel/idxd-sysfs.ts) from its inventory entry. */
export function deviceFacts(d: IdxdDevice): DeviceFacts {
  return {
    type: d.type, state: d.state, configurable: d.configurable, version: Number(d.version) || 0,
    maxGroups: d.maxGroups, maxWqs: d.maxWorkQueues, maxEngines: d.maxEngines, maxWqSize: d.maxWorkQueuesSize,
    maxBatchSize: d.maxBatchSize ?? 0, maxTransferSize: d.maxTransferSize, maxReadBuffers: Number(d.attrs.max_read_buffers ?? 0) || 0,
    userPasid: d.pasidEnabled, systemPasid: false,
  };
}

export function wqFacts(w: IdxdWq): WqFacts {
  return { state: w.state, size: w.size, mode: w.mode, type: w.type, threshold: w.threshold, groupId: w.groupId, name: w.name, driverName: w.driverName ?? undefined };
}
