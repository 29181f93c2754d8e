// The PCI id catalogue of the QAT generations this manager serves (GEN4 4xxx/401xx/402xx, GEN5 420xx, 6xxx).

export const INTEL_VENDOR = 0x8086;

export type FamilyName = '4xxx' | '401xx' | '402xx' | '420xx' | '6xxx';
/** Kernel PF driver names, in the order upstream builds the PF table (§8). */
export const PF_DRIVERS = ['4xxx', '420xx', '6xxx'] as const;
export type PfDriver = (typeof PF_DRIVERS)[number];

export interface Family {
  name: FamilyName;
  pfId: number;
  vfId: number;
  /** Kernel driver bound to the PF (`/sys/bus/pci/drivers/<name>`). */
  pfDriver: PfDriver;
  /** Kernel VF driver name (for VFs kept on the kernel, `LKCF_LIST`). */
  vfDriver: string;
  /** Kernel module of the PF driver. */
  module: string;
  /** `device_name` sent in DEVICE_INFO. */
  vfName: string;
  /** `device_type_t` of the VF (protocol §10.3). */
  vfType: number;
  /** `device_type_t` of the PF. */
  pfType: number;
  /** VFs per PF with SR-IOV fully enabled. */
  totalVfs: number;
}

export const FAMILIES: Readonly<Record<FamilyName, Family>> = Object.freeze({
  '4xxx': { name: '4xxx', pfId: 0x4940, vfId: 0x4941, pfDriver: '4xxx', vfDriver: '4xxxvf', module: 'qat_4xxx', vfName: '4xxxvf', vfType: 14, pfType: 13, totalVfs: 16 },
  '401xx': { name: '401xx', pfId: 0x4942, vfId: 0x4943, pfDriver: '4xxx', vfDriver: '4xxxvf', module: 'qat_4xxx', vfName: '401xxvf', vfType: 14, pfType: 13, totalVfs: 16 },
  '402xx': { name: '402xx', pfId: 0x4944, vfId: 0x4945, pfDriver: '4xxx', vfDriver: '4xxxvf', module: 'qat_4xxx', vfName: '402xxvf', vfType: 14, pfType: 13, totalVfs: 16 },
  '420xx': { name: '420xx', pfId: 0x4946, vfId: 0x4947, pfDriver: '420xx', vfDriver: '420xxvf', module: 'qat_420xx', vfName: '420xxvf', vfType: 16, pfType: 15, totalVfs: 16 },
  '6xxx': { name: '6xxx', pfId: 0x4948, vfId: 0x4949, pfDriver: '6xxx', vfDriver: '6xxxvf', module: 'qat_6xxx', vfName: '6xxxvf', vfType: 18, pfType: 17, totalVfs: 16 },
});

export const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

const BY_VF_ID = new Map<number, Family>(Object.values(FAMILIES).map((f) => [f.vfId, f]));
const BY_PF_ID = new Map<number, Family>(Object.values(FAMILIES).map((f) => [f.pfId, f]));

export function familyByVfId(id: number): Family | undefined {
  return BY_VF_ID.get(id);
}

export function familyByPfId(id: number): Family | undefined {
  return BY_PF_ID.get(id);
}

export function isQatVfId(id: number): boolean {
  return BY_VF_ID.has(id);
}

export function isQatPfId(id: number): boolean {
  return BY_PF_ID.has(id);
}
