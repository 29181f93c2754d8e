// PCI ids of the QAT generations the in-tree stack cannot serve (OOT-only), from the kernel's adf_accel_devices.h.

export interface LegacyGeneration {
  name: string;
  pfId: number;
  vfId: number;
}

/** Gen1-Gen3 devices: DH895xCC, C62x, C3xxx, 200xx, D15xx, C4xxx. */
export const LEGACY_GENERATIONS: readonly LegacyGeneration[] = Object.freeze([
  { name: 'DH895xCC', pfId: 0x0435, vfId: 0x0443 },
  { name: 'C62x', pfId: 0x37c8, vfId: 0x37c9 },
  { name: 'C3xxx', pfId: 0x19e2, vfId: 0x19e3 },
  { name: '200xx', pfId: 0x18ee, vfId: 0x18ef },
  { name: 'D15xx', pfId: 0x6f54, vfId: 0x6f55 },
  { name: 'C4xxx', pfId: 0x18a0, vfId: 0x18a1 },
]);

/** The legacy generation and role of a device id, if it is one. */
export function legacyById(id: number): { gen: LegacyGeneration; role: 'PF' | 'VF' } | undefined {
  for (const gen of LEGACY_GENERATIONS) {
    if (gen.pfId === id) return { gen, role: 'PF' };
    if (gen.vfId === id) return { gen, role: 'VF' };
  }
  return undefined;
}
