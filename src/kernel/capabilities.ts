// What the kernel reports for a PF's services: capability bits, the 3-bit ring-to-service codes, and the map and mask per services set.
//
// Pure data and functions (no I/O): the daemon's sysfs capability source and the simulator's PF both read them.
// The derivation below is the 4xxx rule applied to every family (behaviour §9.4); the per-family kernel rules
// (adf_gen4_hw_data.c, adf_420xx_hw_data.c, adf_6xxx_hw_data.c) replace it in the capabilities issue.

import type { Service } from './services.js';

/** `enum cfg_service_type` (upstream's 3-bit code of one ring pair in the ring-to-service map). */
export const RingCode = { UNUSED: 0, CRYPTO: 1, COMP: 2, SYM: 3, ASYM: 4, DECOMP: 5, USED: 6 } as const;

/** Ring pairs per VF bank group that the map describes. */
export const RING_PAIRS = 4;

/** Capability bits (ICP_ACCEL_CAPABILITIES_*, protocol §10.4) that this manager reasons about. */
export const Cap = {
  CRYPTO_SYMMETRIC: 0x1,
  CRYPTO_ASYMMETRIC: 0x2,
  CIPHER: 0x4,
  AUTHENTICATION: 0x8,
  COMPRESSION: 0x20,
  CRYPTO_SHA3: 0x200,
  HKDF: 0x1000,
  ECEDMONT: 0x2000,
  SHA3_EXT: 0x8000,
  AESGCM_SPC: 0x10000,
  CHACHA_POLY: 0x20000,
  CNV_INTEGRITY: 0x400000,
  CNV_INTEGRITY64: 0x800000,
  LZ4_COMPRESSION: 0x1000000,
  LZ4S_COMPRESSION: 0x2000000,
  AES_V2: 0x4000000,
  ZUC_256: 0x20000000,
} as const;

const SYM_CAPS = Cap.CRYPTO_SYMMETRIC | Cap.CIPHER | Cap.AUTHENTICATION | Cap.CRYPTO_SHA3 | Cap.HKDF | Cap.SHA3_EXT |
  Cap.AESGCM_SPC | Cap.CHACHA_POLY | Cap.AES_V2;
const ASYM_CAPS = Cap.CRYPTO_ASYMMETRIC | Cap.ECEDMONT;
const DC_CAPS = Cap.COMPRESSION | Cap.CNV_INTEGRITY | Cap.CNV_INTEGRITY64 | Cap.LZ4_COMPRESSION | Cap.LZ4S_COMPRESSION;

const CODE: Record<Service, number> = { dc: RingCode.COMP, dcc: RingCode.COMP, decomp: RingCode.DECOMP, asym: RingCode.ASYM, sym: RingCode.SYM };
/** Which service takes the even ring pairs when two share a VF (matches behaviour §9.4: dc, then asym, then sym). */
const RANK: Record<Service, number> = { dc: 0, dcc: 0, decomp: 1, asym: 2, sym: 3 };

/**
 * Ring-to-service map the kernel reports for a services list (behaviour §9.4, 4xxx rules: one service on all four
 * pairs; two services alternate, the higher-ranked on pairs 0 and 2). Three-service lists (420xx/6xxx) cycle over the
 * pairs in rank order; that placement is not verified against the kernel. An empty list gives 0 (the caller decides).
 */
export function ringMapForServices(services: readonly Service[]): number {
  const list = services.includes('dcc') ? ['dcc' as Service] : [...services].sort((a, b) => RANK[a] - RANK[b]);
  if (list.length === 0) return 0;
  let map = 0;
  for (let i = 0; i < RING_PAIRS; i++) map |= CODE[list[i % list.length]] << (3 * i);
  return map;
}

/** Capability mask matching a services list (no sym/asym bits on a dc-only PF, and so on). */
export function capsForServices(services: readonly Service[]): number {
  let mask = 0;
  for (const s of services) {
    if (s === 'sym') mask |= SYM_CAPS;
    else if (s === 'asym') mask |= ASYM_CAPS;
    else mask |= DC_CAPS;
  }
  return mask;
}
