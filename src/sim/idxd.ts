// The simulated host's Intel DSA/IAA devices: spec options, and the sysfs/proc tree the idxd driver would show.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { formatBdf } from '../platform/pci.js';
import { IAA_CRYPTO_MODULE, IAA_DEFAULTS, IDXD_MODULE, IDXD_PCI_DRIVER, IDXD_PCI_IDS, WQ_RESET_DEFAULTS, groupResetDefaults, type IdxdType } from '../kernel/idxd.js';

export interface SimIdxdDevice {
  /** `dsa0`, `iax1`: ids are given in PCI order over both types, as the driver's ida does at probe. */
  name: string;
  type: IdxdType;
  id: number;
  pci: string;
  numaNode: number;
  maxGroups: number;
  maxWqs: number;
  maxEngines: number;
  maxWqSize: number;
}

export interface SimIdxd {
  devices: SimIdxdDevice[];
  /** IOMMU scalable mode (intel_iommu=on,sm_on): PASID/SVA available, `pasid_enabled` 1. */
  scalableMode: boolean;
  /** iaa_crypto loaded (its dsa-bus driver `crypto` registered). */
  iaaCrypto: boolean;
}

export const IDXD_SPEC_OPTIONS = ['iaa', 'dsa', 'idxd_wqs', 'idxd_engines', 'idxd_groups', 'idxd_wq_size', 'sm', 'iaa_crypto'] as const;

export const IDXD_SPEC_HELP = `  iaa=N, dsa=N           Intel IAA / DSA devices (0..8 each; one of each per socket, e.g. dsa0 iax1 dsa2 iax3)
  idxd_wqs=N             work queues per device (1..64, default 8)
  idxd_engines=N         engines per device (1..64, default: IAA 8, DSA 4)
  idxd_groups=N          groups per device (1..16, default 4)
  idxd_wq_size=N         max_work_queues_size per device (1..4096, default 128)
  sm=off                 IOMMU not in scalable mode: pasid_enabled 0 (no user or shared wqs)
  iaa_crypto=off         iaa_crypto not loaded`;

/** Socket buses of the DSA (dd 01.0) and IAA (dd 02.0) functions, as on a Sapphire Rapids host. */
const IDXD_BUSES = [0x6a, 0x6f, 0x74, 0x79, 0xe7, 0xec, 0xf1, 0xf6];

/** Parse the idxd options of a simulator spec (already split into key -> value). */
export function parseIdxdOptions(opts: Map<string, string>, numaNodes: number, fail: (msg: string) => never): SimIdxd | undefined {
  const num = (k: string, dflt: number, min: number, max: number): number => {
    const v = opts.get(k);
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) fail(`${k}=${v} is not ${min}..${max}`);
    return Number(v);
  };
  const iaa = num('iaa', 0, 0, 8);
  const dsa = num('dsa', 0, 0, 8);
  for (const k of ['sm', 'iaa_crypto']) if (opts.has(k) && !['on', 'off'].includes(opts.get(k)!)) fail(`${k}=${opts.get(k)} is not on|off`);
  if (iaa + dsa === 0) {
    const stray = IDXD_SPEC_OPTIONS.filter((k) => k !== 'iaa' && k !== 'dsa' && opts.has(k));
    if (stray.length) fail(`${stray.join(', ')} given without iaa= or dsa=`);
    return undefined;
  }
  const wqs = num('idxd_wqs', 8, 1, 64);
  const groups = num('idxd_groups', 4, 1, 16);
  const size = num('idxd_wq_size', 128, 1, 4096);
  const engines = opts.has('idxd_engines') ? num('idxd_engines', 0, 1, 64) : undefined;
  const sockets = Math.max(iaa, dsa);
  const devices: SimIdxdDevice[] = [];
  let id = 0;
  for (let s = 0; s < sockets; s++) {
    const node = Math.floor((s * numaNodes) / sockets);
    for (const type of ['dsa', 'iax'] as const) {
      if ((type === 'dsa' ? dsa : iaa) <= s) continue;
      const pci = formatBdf({ domain: 0, bus: IDXD_BUSES[s], dev: type === 'dsa' ? 1 : 2, fn: 0 });
      devices.push({ name: `${type}${id}`, type, id, pci, numaNode: node, maxGroups: groups, maxWqs: wqs, maxEngines: engines ?? (type === 'iax' ? 8 : 4), maxWqSize: size });
      id++;
    }
  }
  return { devices, scalableMode: opts.get('sm') !== 'off', iaaCrypto: opts.get('iaa_crypto') !== 'off' };
}

/** Modules the simulated idxd host lists in proc/modules (iaa_crypto last, so a reload puts it back in place). */
export function idxdModules(x: SimIdxd): string[] {
  return [IDXD_MODULE, ...(x.iaaCrypto ? [IAA_CRYPTO_MODULE] : [])];
}

/** Op capability masks as `%*pb` prints 256 bits (illustrative values: DSA copy/fill/compare/CRC/DIF/flush, IAA (de)compress/CRC64/scan/filter). */
const OP_CAP: Record<IdxdType, string> = {
  dsa: '00000000,00000000,00000000,00000000,00000000,00000001,003f03ff,00000000',
  iax: '00000000,00000000,00000000,00000000,00000000,00000000,0001f03f,00000000',
};
const ZERO_256 = '00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000';

/** Algorithms the simulated kernel's crypto API has before iaa_crypto registers deflate-iaa. */
const SOFTWARE_ALGS: Array<[string, string]> = [['deflate', 'deflate-generic'], ['lzo', 'lzo-generic'], ['lzo-rle', 'lzo-rle-generic'], ['zstd', 'zstd-generic'], ['lz4', 'lz4-generic']];

/** One /proc/crypto entry. */
export function cryptoEntry(name: string, driver: string, module: string, priority: number): string {
  return `name         : ${name}\ndriver       : ${driver}\nmodule       : ${module}\npriority     : ${priority}\nrefcnt       : 1\nselftest     : passed\ninternal     : no\ntype         : ${module === 'kernel' ? 'scomp' : 'acomp'}\n\n`;
}

function write(p: string, text: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

function link(p: string, target: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.symlinkSync(target, p);
}

/** A wq's attribute files in their reset state (the files of a freshly probed device). */
export function wqResetFiles(type: IdxdType): Record<string, string> {
  const f: Record<string, string> = { clients: '0', state: 'disabled', ...WQ_RESET_DEFAULTS, driver_name: '' };
  if (type === 'iax') delete f.max_batch_size;
  return f;
}

/** A group's attribute files in their reset state (IAA has no read buffer controls). */
export function groupResetFiles(type: IdxdType, version: number): Record<string, string> {
  const g = groupResetDefaults(version);
  delete g.desc_progress_limit;
  delete g.batch_progress_limit;
  if (type === 'iax') {
    delete g.read_buffers_reserved;
    delete g.read_buffers_allowed;
    delete g.use_read_buffer_limit;
    return { work_queues: '', engines: '', ...g };
  }
  return { work_queues: '', engines: '', ...g, tokens_reserved: g.read_buffers_reserved, tokens_allowed: g.read_buffers_allowed, use_token_limit: g.use_read_buffer_limit };
}

/** File text of an attribute: the kernel prints a newline after every value except an empty list (work_queues, engines). */
export function attrText(attr: string, v: string): string {
  return v === '' && (attr === 'work_queues' || attr === 'engines') ? '' : `${v}\n`;
}

/** Lay down the idxd part of a simulated host: PCI functions, dsa-bus conf devices, drivers, modules, crypto, zswap. */
export function writeIdxd(roots: Roots, x: SimIdxd, deviceDir: (bdf: string) => string): void {
  const { sys } = roots;
  const busDevices = path.join(sys, 'bus', 'dsa', 'devices');
  fs.mkdirSync(busDevices, { recursive: true });
  const pciDrv = path.join(sys, 'bus', 'pci', 'drivers', IDXD_PCI_DRIVER);
  const version = 0x100;
  for (const d of x.devices) {
    const fn = deviceDir(d.pci);
    write(path.join(fn, 'vendor'), '0x8086\n');
    write(path.join(fn, 'device'), `0x${IDXD_PCI_IDS[d.type].toString(16).padStart(4, '0')}\n`);
    write(path.join(fn, 'class'), '0x088000\n');
    write(path.join(fn, 'numa_node'), `${d.numaNode}\n`);
    write(path.join(fn, 'uevent'), `DRIVER=idxd\nPCI_ID=8086:${IDXD_PCI_IDS[d.type].toString(16).toUpperCase()}\nPCI_SLOT_NAME=${d.pci}\n`);
    link(path.join(fn, 'driver'), path.relative(fn, pciDrv));
    link(path.join(pciDrv, d.pci), path.relative(pciDrv, fn));
    link(path.join(sys, 'bus', 'pci', 'devices', d.pci), path.relative(path.join(sys, 'bus', 'pci', 'devices'), fn));
    const conf = path.join(fn, d.name);
    const attrs: Record<string, string> = {
      version: `0x${version.toString(16)}`, max_groups: String(d.maxGroups), max_work_queues: String(d.maxWqs),
      max_work_queues_size: String(d.maxWqSize), max_engines: String(d.maxEngines), numa_node: String(d.numaNode),
      max_transfer_size: '2147483648', op_cap: OP_CAP[d.type], gen_cap: d.type === 'dsa' ? '0x40915f0107' : '0x71f10901f0105',
      configurable: '1', clients: '0', pasid_enabled: x.scalableMode ? '1' : '0', state: 'disabled', errors: ZERO_256,
      cdev_major: d.type === 'dsa' ? '237' : '238', cmd_status: '0',
    };
    if (d.type === 'dsa') Object.assign(attrs, { max_batch_size: '1024', max_tokens: '96', max_read_buffers: '96', token_limit: '0', read_buffer_limit: '0' });
    for (const [k, v] of Object.entries(attrs)) write(path.join(conf, k), `${v}\n`);
    write(path.join(conf, 'uevent'), `DEVTYPE=${d.type}\nMODALIAS=dsa:t0*\n`);
    link(path.join(conf, 'subsystem'), path.relative(conf, path.join(sys, 'bus', 'dsa')));
    link(path.join(busDevices, d.name), path.relative(busDevices, conf));
    const child = (name: string, files: Record<string, string>, devtype: string): void => {
      const dir = path.join(conf, name);
      for (const [k, v] of Object.entries(files)) write(path.join(dir, k), attrText(k, v));
      write(path.join(dir, 'uevent'), `DEVTYPE=${devtype}\nMODALIAS=dsa:t0*\n`);
      link(path.join(dir, 'subsystem'), path.relative(dir, path.join(sys, 'bus', 'dsa')));
      link(path.join(busDevices, name), path.relative(busDevices, dir));
    };
    for (let i = 0; i < d.maxWqs; i++) child(`wq${d.id}.${i}`, wqResetFiles(d.type), 'wq');
    for (let i = 0; i < d.maxEngines; i++) child(`engine${d.id}.${i}`, { group_id: '-1' }, 'engine');
    for (let i = 0; i < d.maxGroups; i++) child(`group${d.id}.${i}`, groupResetFiles(d.type, version), 'group');
  }
  for (const drv of ['idxd', 'dmaengine', 'user', 'dsa']) {
    write(path.join(sys, 'bus', 'dsa', 'drivers', drv, 'bind'), '');
    write(path.join(sys, 'bus', 'dsa', 'drivers', drv, 'unbind'), '');
  }
  fs.mkdirSync(path.join(sys, 'module', IDXD_MODULE, 'parameters'), { recursive: true });
  if (x.iaaCrypto) loadIaaCrypto(roots);
  write(path.join(sys, 'module', 'zswap', 'parameters', 'enabled'), 'N\n');
  write(path.join(sys, 'module', 'zswap', 'parameters', 'compressor'), 'lzo\n');
  write(path.join(roots.proc, 'crypto'), SOFTWARE_ALGS.map(([n, d]) => cryptoEntry(n, d, 'kernel', 100)).join(''));
}

/** What loading iaa_crypto adds to sysfs: its dsa-bus driver with the two attributes at their defaults. */
export function loadIaaCrypto(roots: Roots): void {
  const drv = path.join(roots.sys, 'bus', 'dsa', 'drivers', 'crypto');
  write(path.join(drv, 'bind'), '');
  write(path.join(drv, 'unbind'), '');
  write(path.join(drv, 'sync_mode'), `${IAA_DEFAULTS.sync_mode}\n`);
  write(path.join(drv, 'verify_compress'), `${IAA_DEFAULTS.verify_compress}\n`);
  fs.mkdirSync(path.join(roots.sys, 'module', IAA_CRYPTO_MODULE), { recursive: true });
}
