// Simulator specs: `default`, `4xxx:2x16`, `4xxx:1x16+420xx:2x8,numa=2,services=sym;asym/dc`, or a JSON host description.

import fs from 'node:fs';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { FAMILIES, FAMILY_NAMES, type FamilyName } from '../kernel/catalogue.js';
import { formatBdf, type PciAddress } from '../platform/pci.js';
import { INSTANT_KINDS, type InjectKind } from './fault-kinds.js';
import { IDXD_SPEC_HELP, IDXD_SPEC_OPTIONS, idxdModules, parseIdxdOptions, type SimIdxd } from './idxd.js';

export type VfDriverChoice = 'vfio-pci' | 'kernel' | 'none';

export interface SimVf {
  bdf: string;
  iommuGroup: number;
  driver: VfDriverChoice;
}

export interface SimPf {
  bdf: string;
  family: FamilyName;
  numaNode: number;
  iommuGroup: number;
  /** `sriov_totalvfs`. */
  totalVfs: number;
  /** PF `qat/cfg_services`. */
  services: string;
  /** PF `qat/state`. */
  state: 'up' | 'down';
  /** Present VFs (`sriov_numvfs` = vfs.length). */
  vfs: SimVf[];
}

export interface SimHost {
  pfs: SimPf[];
  /** VFs without a PF in sysfs (a guest, `vm` option): each on its own bus. */
  guestVfs: Array<SimVf & { family: FamilyName; numaNode: number }>;
  cpus: number;
  numaNodes: number;
  noiommu: boolean;
  /** Kernel modules listed in proc/modules, with their state. */
  modules: Record<string, 'Live' | 'Loading' | 'Unloading' | 'Coming'>;
  cmdline: string;
  /** Health faults applied right after the host is written (spec option `fault=`). */
  faults?: Array<{ kind: string; pf: string }>;
  /** Intel DSA/IAA devices (`iaa=N`, `dsa=N`); absent on hosts without them. */
  idxd?: SimIdxd;
}

export const DEFAULT_SPEC = '4xxx:2x16';

export const SPEC_HELP = `SPEC is 'default' (= ${DEFAULT_SPEC}), a list of PF groups joined by '+', then options joined by ',':
  FAMILY:PFSxVFS         FAMILY one of ${FAMILY_NAMES.join(', ')}; PFS 1..256; VFS 0..16 per PF
Options:
  numa=N                 NUMA nodes (default 1); PFs are spread evenly across them
  cpus=N                 online CPUs in all (default 8 per node)
  services=A/B/...       PF qat/cfg_services, one per PF, repeated cyclically (quote ';': 'sym;asym/dc');
                         default: the kernel's, sym;asym on even PFs and dc on odd ones
  sriov=off              PFs with SR-IOV disabled (no VFs yet; sriov_totalvfs still 16)
  driver=vfio-pci|kernel|none   what the VFs are bound to (default vfio-pci)
  state=up|down          PF qat/state (default up)
  noiommu                /dev/vfio/noiommu-<g> group nodes
  vm                     a guest: VFs only, each on its own bus, no PFs
  fault=KIND@PF[;...]    health faults applied once the host is written, e.g. fault=heartbeat-fail@1
                         (KIND: ${[...INSTANT_KINDS].join(', ')}; PF: index or BDF)
${IDXD_SPEC_HELP}
A host without QAT: options only, e.g. 'iaa=4,dsa=4'.
A JSON file (path ending in .json) holding a SimHost object is accepted too.`;

const BUSES = [0x6b, 0x70, 0x75, 0x7a, 0xe8, 0xed, 0xf2, 0xf7];

function pfAddress(i: number): PciAddress {
  if (i < BUSES.length) return { domain: 0, bus: BUSES[i], dev: 0, fn: 0 };
  const k = i - BUSES.length;
  return { domain: 1 + Math.floor(k / 200), bus: 0x10 + (k % 200), dev: 0, fn: 0 };
}

/** VF k (0-based) of a PF sits at devfn 1 + k on the PF's bus: 00.1 … 00.7, 01.0 … 01.7, 02.0. */
export function vfAddress(pf: PciAddress, k: number): PciAddress {
  const devfn = pf.dev * 8 + pf.fn + 1 + k;
  return { domain: pf.domain, bus: pf.bus, dev: devfn >> 3, fn: devfn & 7 };
}

/** The kernel's default services when ServicesEnabled is unset: sym;asym on even PFs, dc on odd ones. */
export function kernelDefaultServices(pfIndex: number): string {
  return pfIndex % 2 === 0 ? 'sym;asym' : 'dc';
}

function specError(spec: string, msg: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_SIM_SPEC, `simulator spec "${spec}": ${msg}`);
}

/** Turn a spec string (or a .json path) into a host description. */
export function parseSimSpec(specIn: string): SimHost {
  const spec = specIn.trim() === 'default' ? DEFAULT_SPEC : specIn.trim();
  if (spec.endsWith('.json')) return loadJsonHost(spec);
  const parts = spec.split(',');
  // a spec that starts with an option has no QAT PF group ('iaa=4,dsa=2')
  const [groupsPart, ...optParts] = /[=]/.test(parts[0]) || ['noiommu', 'vm'].includes(parts[0].trim()) ? ['', ...parts] : parts;
  const opts = new Map<string, string>();
  for (const o of optParts) {
    const t = o.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    const k = eq < 0 ? t : t.slice(0, eq);
    const v = eq < 0 ? 'true' : t.slice(eq + 1);
    if (![...['numa', 'cpus', 'services', 'sriov', 'driver', 'state', 'noiommu', 'vm', 'fault'], ...IDXD_SPEC_OPTIONS].includes(k)) {
      throw specError(specIn, `unknown option "${k}"`);
    }
    opts.set(k, v);
  }
  const groups: Array<{ family: FamilyName; pfs: number; vfs: number }> = [];
  for (const g of groupsPart === '' ? [] : groupsPart.split('+')) {
    const m = /^\s*([0-9a-z]+):([0-9]+)x([0-9]+)\s*$/.exec(g);
    if (!m) throw specError(specIn, `"${g}" is not FAMILY:PFSxVFS (e.g. 4xxx:2x16)`);
    const family = m[1] as FamilyName;
    if (!FAMILY_NAMES.includes(family)) throw specError(specIn, `unknown family "${m[1]}"; one of ${FAMILY_NAMES.join(', ')}`);
    const pfs = Number(m[2]);
    const vfs = Number(m[3]);
    if (pfs < 1 || pfs > 256) throw specError(specIn, `PF count ${pfs} is not 1..256`);
    if (vfs > FAMILIES[family].totalVfs) throw specError(specIn, `VF count ${vfs} is not 0..${FAMILIES[family].totalVfs}`);
    groups.push({ family, pfs, vfs });
  }
  const totalPfs = groups.reduce((a, g) => a + g.pfs, 0);
  if (totalPfs > 256) throw specError(specIn, `${totalPfs} PFs in all; at most 256`);
  const num = (k: string, dflt: number, min: number, max: number): number => {
    const v = opts.get(k);
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw specError(specIn, `${k}=${v} is not ${min}..${max}`);
    return Number(v);
  };
  const numaNodes = num('numa', 1, 1, 64);
  const cpus = num('cpus', 8 * numaNodes, numaNodes, 4096);
  const services = opts.get('services')?.split('/').map((s) => s.trim());
  const sriovOff = opts.get('sriov') === 'off';
  if (opts.has('sriov') && !['on', 'off'].includes(opts.get('sriov')!)) throw specError(specIn, `sriov=${opts.get('sriov')} is not on|off`);
  const driver = (opts.get('driver') ?? 'vfio-pci') as VfDriverChoice;
  if (!['vfio-pci', 'kernel', 'none'].includes(driver)) throw specError(specIn, `driver=${driver} is not vfio-pci|kernel|none`);
  const state = (opts.get('state') ?? 'up') as 'up' | 'down';
  if (state !== 'up' && state !== 'down') throw specError(specIn, `state=${state} is not up|down`);
  const vm = opts.has('vm');
  const faults = opts.has('fault') ? opts.get('fault')!.split(';').map((f) => f.trim()).filter(Boolean).map((f) => {
    const m = /^([a-z-]+)@(\S+)$/.exec(f);
    if (!m) throw specError(specIn, `fault "${f}" is not KIND@PF (e.g. heartbeat-fail@1)`);
    if (!INSTANT_KINDS.has(m[1] as InjectKind)) throw specError(specIn, `fault "${m[1]}" is not one of ${[...INSTANT_KINDS].join(', ')}`);
    return { kind: m[1], pf: m[2] };
  }) : undefined;

  const host: SimHost = {
    pfs: [],
    guestVfs: [],
    cpus,
    numaNodes,
    noiommu: opts.has('noiommu'),
    modules: {},
    cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt',
    ...(faults ? { faults } : {}),
  };
  let pfIndex = 0;
  let group = 0;
  const vfGroupBase = Math.max(100, 40 + totalPfs);
  let nextVfGroup = vfGroupBase;
  for (const g of groups) {
    for (let p = 0; p < g.pfs; p++, pfIndex++) {
      const addr = pfAddress(pfIndex);
      const node = Math.floor((pfIndex * numaNodes) / totalPfs);
      if (vm) {
        for (let k = 0; k < g.vfs; k++) {
          const bus = 1 + host.guestVfs.length;
          host.guestVfs.push({
            bdf: formatBdf({ domain: Math.floor(bus / 256), bus: bus % 256, dev: 0, fn: 0 }),
            iommuGroup: nextVfGroup++,
            driver,
            family: g.family,
            numaNode: -1,
          });
        }
        continue;
      }
      const pf: SimPf = {
        bdf: formatBdf(addr),
        family: g.family,
        numaNode: node,
        iommuGroup: 40 + pfIndex,
        totalVfs: FAMILIES[g.family].totalVfs,
        services: services ? services[pfIndex % services.length] : kernelDefaultServices(pfIndex),
        state,
        vfs: [],
      };
      if (!sriovOff) {
        for (let k = 0; k < g.vfs; k++) {
          pf.vfs.push({ bdf: formatBdf(vfAddress(addr, k)), iommuGroup: nextVfGroup++, driver });
        }
      } else {
        nextVfGroup += g.vfs;
      }
      host.pfs.push(pf);
      group++;
    }
  }
  const mods = new Set<string>(groups.map((g) => FAMILIES[g.family].module));
  for (const m of mods) host.modules[m] = 'Live';
  if (groups.length > 0) {
    host.modules.intel_qat = 'Live';
    host.modules.vfio_pci = 'Live';
  }
  const idxd = parseIdxdOptions(opts, numaNodes, (msg) => { throw specError(specIn, msg); });
  if (idxd) {
    host.idxd = idxd;
    for (const m of idxdModules(idxd)) host.modules[m] = 'Live';
    if (idxd.scalableMode) host.cmdline = host.cmdline.replace('intel_iommu=on', 'intel_iommu=on,sm_on');
  }
  if (groups.length === 0 && !idxd) throw specError(specIn, 'no QAT PF group and no iaa=/dsa= devices: nothing to simulate');
  void group;
  return host;
}

function loadJsonHost(file: string): SimHost {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw specError(file, `cannot read JSON host: ${(e as Error).message}`);
  }
  const h = raw as Partial<SimHost>;
  if (!h || typeof h !== 'object' || !Array.isArray(h.pfs)) throw specError(file, 'JSON host needs a "pfs" array');
  return {
    pfs: h.pfs,
    guestVfs: h.guestVfs ?? [],
    cpus: h.cpus ?? 8,
    numaNodes: h.numaNodes ?? 1,
    noiommu: h.noiommu ?? false,
    modules: h.modules ?? { qat_4xxx: 'Live', intel_qat: 'Live', vfio_pci: 'Live' },
    cmdline: h.cmdline ?? 'intel_iommu=on',
    ...(h.idxd ? { idxd: h.idxd } : {}),
  };
}
