// Every reply a granted section can produce, encoded once (requests are then answered from memory).

import { encodeString, encodeCount, encodeDeviceInfo, encodeInstanceInfo, encodeVfioFile, encodePfInfo, type RingInfoFields } from './encode.js';
import { MsgType, INSTANCE_TYPES } from './constants.js';
import type { PlannedDevice, Instance } from '../sections/plan.js';
import type { PfInfo } from '../platform/pfs.js';
import { cyUsesAsym } from '../devices/instances.js';

export interface SectionReplies {
  name: string;
  /** The name as the client must send it back in SECTION_PUT (no NUL). */
  nameBytes: Buffer;
  get: Buffer;
  numDevices: Buffer;
  deviceInfo: Buffer[];
  deviceId: Buffer[];
  vfioFile: Buffer[];
  /** [device][INSTANCE_TYPES index][instance number]. */
  instInfo: Buffer[][][];
  instName: Buffer[][][];
}

/** Fixed DEVICE_INFO values (behaviour §10.1). */
export const VF_FIXED = { maxBanks: 4, maxRingsPerBank: 2, arbMask: 0x01, ringMode: 0 } as const;

function ring(accelId: number, inst: Instance | undefined): RingInfoFields | undefined {
  if (!inst) return undefined;
  return { accelId, bank: inst.bank, isPolled: 1, core: inst.core, concurrent: inst.concurrent, ringTx: 0, ringRx: 1 };
}

function perDevice(version: number, d: PlannedDevice, idx: number): { info: Buffer[][]; names: Buffer[][] } {
  const { sym, asym, dc, decomp } = d.instances;
  const fromAsym = cyUsesAsym(d.layout.services);
  const info: Buffer[][] = [];
  const names: Buffer[][] = [];
  for (const t of INSTANCE_TYPES) {
    const i: Buffer[] = [];
    const n: Buffer[] = [];
    const name = (inst: Instance | undefined, alt?: Instance): Buffer =>
      encodeString(version, MsgType.INSTANCE_NAME, (inst ?? alt)?.name ?? '');
    switch (t.kind) {
      case 'dc':
      case 'decomp': {
        const list = t.kind === 'dc' ? dc : decomp;
        for (const inst of list) { i.push(encodeInstanceInfo(version, ring(idx, inst), undefined, undefined)); n.push(name(inst)); }
        break;
      }
      case 'sym':
        for (const inst of sym) { i.push(encodeInstanceInfo(version, ring(idx, inst), undefined, undefined)); n.push(name(inst)); }
        break;
      case 'asym':
        for (const inst of asym) { i.push(encodeInstanceInfo(version, undefined, ring(idx, inst), undefined)); n.push(name(inst)); }
        break;
      case 'cy':
        for (let k = 0; k < d.layout.numCy; k++) {
          const s = sym[k];
          const a = asym[k];
          const polledFrom = fromAsym ? a : s;
          i.push(encodeInstanceInfo(version, ring(idx, s), ring(idx, a), polledFrom ? 1 : 0));
          n.push(fromAsym ? name(a, s) : name(s, a));
        }
        break;
    }
    info.push(i);
    names.push(n);
  }
  return { info, names };
}

/** Encode the replies for a section served with `devices` (device index = accelid). */
export function buildSectionReplies(version: number, name: string, devices: PlannedDevice[], vm: boolean): SectionReplies {
  const deviceInfo: Buffer[] = [];
  const deviceId: Buffer[] = [];
  const vfioFile: Buffer[] = [];
  const instInfo: Buffer[][][] = [];
  const instName: Buffer[][][] = [];
  devices.forEach((d, idx) => {
    const { vf, caps, layout, instances } = d;
    deviceInfo.push(encodeDeviceInfo(version, {
      deviceNum: idx,
      deviceType: vf.family.vfType,
      pciId: vf.deviceId,
      capabilityMask: caps.capabilityMask,
      extCaps: caps.extDcCaps,
      fwCaps: caps.fwCaps,
      ...VF_FIXED,
      services: layout.services,
      pkgId: vm || !vf.pf ? idx : vf.pf.pkgId,
      nodeId: vf.numaNode,
      numCy: layout.numCy,
      numSym: instances.sym.length,
      numAsym: instances.asym.length,
      numDc: instances.dc.length,
      numDecomp: instances.decomp.length,
      deviceName: vf.family.vfName,
    }));
    deviceId.push(encodeString(version, MsgType.DEVICE_ID, vf.bdf));
    // an fd number means nothing in another process: always -1 (protocol §9.8)
    vfioFile.push(encodeVfioFile(version, -1, vf.vfioPath));
    const p = perDevice(version, d, idx);
    instInfo.push(p.info);
    instName.push(p.names);
  });
  return {
    name,
    nameBytes: Buffer.from(name, 'latin1'),
    get: encodeString(version, MsgType.SECTION_GET, name),
    numDevices: encodeCount(version, MsgType.NUM_DEVICES, devices.length),
    deviceInfo,
    deviceId,
    vfioFile,
    instInfo,
    instName,
  };
}

export interface PfReplies {
  count: Buffer;
  info: Buffer[];
}

export function buildPfReplies(version: number, pfs: PfInfo[]): PfReplies {
  return {
    count: encodeCount(version, MsgType.NUM_PF_DEVS, pfs.length),
    info: pfs.map((p) => encodePfInfo(version, p.pkgId, p.addr.domain, p.bdf16, p.driver)),
  };
}
