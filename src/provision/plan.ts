// Pure planning: from the inventory and the wanted configuration to the per-PF decisions and the ordered steps (no I/O).

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { predictVfAddress, type Inventory, type PfInfo, type VfInfo, type IgnoredDevice } from './inventory.js';
import type { ProvisionConfig } from './config.js';
import { isKernelVf } from './config.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { VFIO_DRIVER } from '../kernel/drivers.js';
import { allowedSets, familySupports, formatServices, sameServices, SERVICE_RULES, type Service } from '../kernel/services.js';

/** Group bits every QAT /dev/vfio node gets (upstream: chmod +060). */
export const NODE_GROUP_BITS = 0o060;
/** Group bits of the hugepages directory (upstream: chmod +070). */
export const HUGEPAGES_GROUP_BITS = 0o070;

export interface Step {
  /** Stable verb: state, services, numvfs, bind, perms, hugepages. */
  op: 'state' | 'services' | 'numvfs' | 'bind' | 'perms' | 'hugepages';
  /** PF (or guest VF) the step belongs to; empty for host-wide steps. */
  target: string;
  /** File written, or node changed. */
  path: string;
  /** What is written / set. */
  value: string;
  /** Human explanation. */
  why: string;
}

export interface VfTarget {
  bdf: string;
  /** Driver it must end up on. */
  driver: string;
  kernelVf: boolean;
}

export interface PfPlan {
  bdf: string;
  family: string;
  services: { now: string | undefined; want: string | undefined; change: boolean };
  state: string | undefined;
  vfs: { now: number; want: number; change: boolean };
  /** VFs known now that need a different driver (after an SR-IOV change all new VFs are bound; see bindAllAfterEnable). */
  rebind: VfTarget[];
  /** SR-IOV (re-)enabled by this plan: every VF created is bound at apply time. */
  bindAllAfterEnable: boolean;
  /** /dev/vfio nodes needing group/mode now (new ones are fixed at apply time). */
  perms: string[];
  /** VFs kept on the kernel VF driver. */
  kernelVfs: string[];
  steps: Step[];
  changes: boolean;
}

export interface HugepagesPlan {
  path: string;
  /** Nothing to do (no hugetlbfs dir, or already right). */
  action: 'none' | 'create' | 'fix' | 'absent';
}

export interface Plan {
  pfs: PfPlan[];
  guestVfs: { targets: VfTarget[]; perms: string[]; steps: Step[] };
  hugepages: HugepagesPlan;
  gid: number;
  groupName: string;
  services: string | undefined;
  servicesNote: string | undefined;
  policy: { value: number; where: string; vfioVfs: number; sections: number; note: string };
  ignored: IgnoredDevice[];
  notes: string[];
  steps: Step[];
  /** Nothing to do: a second run after a successful one plans this. */
  empty: boolean;
}

export interface HugepagesState {
  /** `<dev>/hugepages` exists and is a directory. */
  baseIsDir: boolean;
  /** stat of `<dev>/hugepages/qat`, undefined when missing. */
  qat: { gid: number; mode: number; isDirectory: boolean } | undefined;
}

function nodeOk(vf: VfInfo, gid: number): boolean {
  return vf.nodeStat !== undefined && vf.nodeStat.gid === gid && (vf.nodeStat.mode & NODE_GROUP_BITS) === NODE_GROUP_BITS;
}

/** Reject a wanted service set that some present family does not support, naming file, line and the allowed sets. */
export function validateServicesForPlatform(cfg: ProvisionConfig, inv: Inventory): void {
  if (!cfg.services) return;
  const byFamily = new Map<string, PfInfo[]>();
  for (const pf of inv.pfs) byFamily.set(pf.family.name, [...(byFamily.get(pf.family.name) ?? []), pf]);
  for (const [fam, pfs] of byFamily) {
    const family = pfs[0].family.name;
    if (!familySupports(family, cfg.services.set)) {
      const rule = SERVICE_RULES[family];
      throw new QatmgrError(
        ErrorCodes.QATMGR_E_CONFIG_VALUE,
        `${cfg.services.where}: ServicesEnabled="${cfg.services.raw}" is not supported by ${fam} (PF ${pfs.map((p) => p.bdf).join(', ')}); allowed for ${fam}: ${allowedSets(family).join(', ')} (kernel rule: ${rule.source})`,
        { family: fam, allowed: allowedSets(family) },
      );
    }
  }
}

/** POLICY against the VFs that will be on vfio-pci after provisioning (the daemon fails start-up otherwise). */
function policyCheck(cfg: ProvisionConfig, vfioVfs: number, perPf: number[]): Plan['policy'] {
  const p = cfg.policy;
  if (p > 0 && p > vfioVfs) {
    throw new QatmgrError(
      ErrorCodes.QATMGR_E_CONFIG_VALUE,
      `${cfg.policyWhere}: POLICY ${p} needs at least ${p} VFs but provisioning leaves ${vfioVfs} VF(s) on vfio-pci; the daemon would refuse to start (lower POLICY, or keep fewer VFs on the kernel driver)`,
    );
  }
  if (p === 0) {
    // sections = VF groups of one VF per PF: as many as the PF with the most vfio-pci VFs (guests: one section)
    const sections = perPf.length === 0 ? (vfioVfs > 0 ? 1 : 0) : Math.max(0, ...perPf);
    return { value: p, where: cfg.policyWhere, vfioVfs, sections, note: `policy 0: ${sections} section(s), one VF of every PF each` };
  }
  const sections = Math.floor(vfioVfs / p);
  const unused = vfioVfs % p;
  return { value: p, where: cfg.policyWhere, vfioVfs, sections, note: `policy ${p}: ${sections} section(s) of ${p} VF(s)${unused ? `, ${unused} VF(s) unused` : ''}` };
}

export interface PlanInputs {
  inv: Inventory;
  cfg: ProvisionConfig;
  roots: Roots;
  gid: number;
  groupName: string;
  hugepages: HugepagesState;
  /** Only give existing vfio-pci VF nodes to the group (upstream's `qat_init.sh reload-permissions`, for udev). */
  permissionsOnly?: boolean;
}

export function makePlan({ inv, cfg, roots, gid, groupName, hugepages, permissionsOnly }: PlanInputs): Plan {
  if (permissionsOnly) return permissionsPlan(inv, cfg, gid, groupName, roots);
  validateServicesForPlatform(cfg, inv);
  const notes: string[] = [];
  if (cfg.servicesNote) notes.push(cfg.servicesNote);
  const want: Service[] | undefined = cfg.services?.set;
  const pfs: PfPlan[] = [];
  let vfioVfs = 0;
  const perPf: number[] = [];
  const drivers = path.join(roots.sys, 'bus', 'pci', 'drivers');

  for (const pf of inv.pfs) {
    const steps: Step[] = [];
    const attr = (a: string): string => path.join(pf.dir, a);
    let servicesChange = false;
    if (want) {
      if (pf.servicesText === undefined) {
        notes.push(`PF ${pf.bdf}: ${attr('qat/cfg_services')} is missing (kernel older than 5.17?); services left as they are. Update the kernel to choose services.`);
      } else {
        servicesChange = pf.services === undefined || !sameServices(pf.services, want);
      }
    }
    const kernelVfs: string[] = [];
    const total = pf.totalVfs;
    const enable = servicesChange ? total > 0 : pf.numVfs !== total;
    if (servicesChange) {
      if (pf.state === 'up') steps.push({ op: 'state', target: pf.bdf, path: attr('qat/state'), value: 'down', why: 'cfg_services is writable only while the device is down (this also removes its VFs)' });
      steps.push({ op: 'services', target: pf.bdf, path: attr('qat/cfg_services'), value: formatServices(want!), why: `was ${pf.servicesText}` });
      steps.push({ op: 'state', target: pf.bdf, path: attr('qat/state'), value: 'up', why: 'restart with the new services' });
    }
    if (enable) {
      if (!servicesChange && pf.numVfs !== 0) steps.push({ op: 'numvfs', target: pf.bdf, path: attr('sriov_numvfs'), value: '0', why: `the kernel refuses to change a non-zero VF count (${pf.numVfs}) directly` });
      if (total > 0) steps.push({ op: 'numvfs', target: pf.bdf, path: attr('sriov_numvfs'), value: String(total), why: 'QAT needs all VFs enabled for all ring pairs to be usable' });
    }
    const rebind: VfTarget[] = [];
    const perms: string[] = [];
    if (!enable) {
      for (const vf of pf.vfs) {
        const kv = isKernelVf(cfg.kernelVfs, vf.bdf);
        const driver = kv ? pf.family.vfDriver : VFIO_DRIVER;
        if (kv) kernelVfs.push(vf.bdf);
        if (vf.driver !== driver) {
          rebind.push({ bdf: vf.bdf, driver, kernelVf: kv });
          steps.push({ op: 'bind', target: vf.bdf, path: path.join(drivers, driver, 'bind'), value: vf.bdf, why: `${vf.driver ? `unbind from ${vf.driver}, ` : ''}driver_override=${driver}${kv ? ' (kept on the kernel driver: KernelVfs/LKCF_LIST)' : ''}` });
        } else if (!kv && !nodeOk(vf, gid)) {
          perms.push(vf.node ?? `${roots.dev}/vfio/${vf.group}`);
          steps.push({ op: 'perms', target: vf.bdf, path: vf.node ?? path.join(roots.dev, 'vfio', vf.group ?? '?'), value: `group ${groupName} (${gid}), g+rw`, why: 'libqat users are in group qat' });
        }
      }
    } else if (total > 0) {
      steps.push({ op: 'bind', target: pf.bdf, path: path.join(drivers, VFIO_DRIVER, 'bind'), value: `${total} VFs`, why: `bind each new VF to vfio-pci (driver_override + bind) and give /dev/vfio/<group> group ${groupName} g+rw${cfg.kernelVfs.addresses.length || cfg.kernelVfs.patterns.length ? '; KernelVfs/LKCF_LIST matches go to the kernel VF driver' : ''}` });
    }
    const wantVfs = total;
    if (enable) {
      for (let k = 0; k < total; k++) {
        const bdf = predictVfAddress(pf, k);
        if (isKernelVf(cfg.kernelVfs, bdf)) kernelVfs.push(bdf);
      }
    }
    const kernelCount = kernelVfs.length;
    vfioVfs += wantVfs - kernelCount;
    perPf.push(wantVfs - kernelCount);
    const p: PfPlan = {
      bdf: pf.bdf,
      family: pf.family.name,
      services: { now: pf.servicesText, want: want ? formatServices(want) : undefined, change: servicesChange },
      state: pf.state,
      vfs: { now: pf.numVfs, want: wantVfs, change: enable },
      rebind,
      bindAllAfterEnable: enable && total > 0,
      perms,
      kernelVfs,
      steps,
      changes: steps.length > 0,
    };
    pfs.push(p);
  }

  // a guest: no PFs, VFs straight on the PCI bus
  const gSteps: Step[] = [];
  const gTargets: VfTarget[] = [];
  const gPerms: string[] = [];
  for (const vf of inv.guestVfs) {
    const kv = isKernelVf(cfg.kernelVfs, vf.bdf);
    const driver = kv ? vf.family.vfDriver : VFIO_DRIVER;
    if (!kv) vfioVfs++;
    if (vf.driver !== driver) {
      gTargets.push({ bdf: vf.bdf, driver, kernelVf: kv });
      gSteps.push({ op: 'bind', target: vf.bdf, path: path.join(drivers, driver, 'bind'), value: vf.bdf, why: `${vf.driver ? `unbind from ${vf.driver}, ` : ''}driver_override=${driver}` });
    } else if (!kv && !nodeOk(vf, gid)) {
      gPerms.push(vf.node!);
      gSteps.push({ op: 'perms', target: vf.bdf, path: vf.node ?? '?', value: `group ${groupName} (${gid}), g+rw`, why: 'libqat users are in group qat' });
    }
  }

  const hpPath = path.join(roots.dev, 'hugepages', 'qat');
  let hpAction: HugepagesPlan['action'] = 'absent';
  if (hugepages.baseIsDir) {
    if (!hugepages.qat) hpAction = 'create';
    else if (hugepages.qat.isDirectory && (hugepages.qat.gid !== gid || (hugepages.qat.mode & HUGEPAGES_GROUP_BITS) !== HUGEPAGES_GROUP_BITS)) hpAction = 'fix';
    else hpAction = 'none';
  } else if (inv.pfs.length > 0 || inv.guestVfs.length > 0) {
    notes.push(`${path.join(roots.dev, 'hugepages')} is not a directory (hugetlbfs not mounted); no hugepages directory for qat`);
  }
  const hpSteps: Step[] = hpAction === 'create' || hpAction === 'fix'
    ? [{ op: 'hugepages', target: '', path: hpPath, value: `${hpAction === 'create' ? 'mkdir, ' : ''}group ${groupName} (${gid}), g+rwx`, why: 'libqat allocates DMA memory there' }]
    : [];

  const policy = policyCheck(cfg, vfioVfs, perPf);
  if (inv.pfs.length === 0 && inv.guestVfs.length === 0) notes.push('no QAT GEN4+ device found (no PF, no VF); nothing to provision');
  const steps = [...pfs.flatMap((p) => p.steps), ...gSteps, ...hpSteps];
  return {
    pfs,
    guestVfs: { targets: gTargets, perms: gPerms, steps: gSteps },
    hugepages: { path: hpPath, action: hpAction },
    gid,
    groupName,
    services: want ? formatServices(want) : undefined,
    servicesNote: cfg.servicesNote,
    policy,
    ignored: inv.ignored,
    notes,
    steps,
    empty: steps.length === 0,
  };
}

/** The permissions-only plan: a perms step for every vfio-pci VF node that lacks the group or g+rw. */
function permissionsPlan(inv: Inventory, cfg: ProvisionConfig, gid: number, groupName: string, roots: Roots): Plan {
  const stepFor = (vf: VfInfo): Step[] =>
    vf.driver === VFIO_DRIVER && vf.node && !nodeOk(vf, gid)
      ? [{ op: 'perms', target: vf.bdf, path: vf.node, value: `group ${groupName} (${gid}), g+rw`, why: 'libqat users are in group qat' }]
      : [];
  const pfs: PfPlan[] = inv.pfs.map((pf) => {
    const steps = pf.vfs.flatMap(stepFor);
    return {
      bdf: pf.bdf,
      family: pf.family.name,
      services: { now: pf.servicesText, want: undefined, change: false },
      state: pf.state,
      vfs: { now: pf.numVfs, want: pf.numVfs, change: false },
      rebind: [],
      bindAllAfterEnable: false,
      perms: steps.map((s) => s.path),
      kernelVfs: [],
      steps,
      changes: steps.length > 0,
    };
  });
  const gSteps = inv.guestVfs.flatMap(stepFor);
  const vfio = [...inv.pfs.flatMap((p) => p.vfs), ...inv.guestVfs].filter((v) => v.driver === VFIO_DRIVER).length;
  const steps = [...pfs.flatMap((p) => p.steps), ...gSteps];
  return {
    pfs,
    guestVfs: { targets: [], perms: gSteps.map((s) => s.path), steps: gSteps },
    hugepages: { path: path.join(roots.dev, 'hugepages', 'qat'), action: 'none' },
    gid,
    groupName,
    services: undefined,
    servicesNote: undefined,
    policy: { value: cfg.policy, where: cfg.policyWhere, vfioVfs: vfio, sections: 0, note: 'not checked (--permissions-only)' },
    ignored: inv.ignored,
    notes: ['--permissions-only: services, SR-IOV and bindings are left as they are'],
    steps,
    empty: steps.length === 0,
  };
}
