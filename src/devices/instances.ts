// Instance maths for one VF (behaviour §10.2–§10.3): counts, services bits and the bank of each instance.

import { QatmgrError, ErrorCodes } from '../errors.js';
import { Serv } from './services.js';
import { Cap, RING_PAIRS, RingCode } from '../kernel/capabilities.js';

export type InstanceKind = 'asym' | 'sym' | 'dc' | 'decomp';
/** Creation order of a VF's instances: drives the CPU round-robin and the name counters. */
export const INSTANCE_ORDER: readonly InstanceKind[] = ['asym', 'sym', 'dc', 'decomp'];

export const CONCURRENT_REQUESTS: Record<InstanceKind, number> = { asym: 64, sym: 512, dc: 512, decomp: 512 };

export interface VfInstanceLayout {
  /** OR of `serv_type` bits. */
  services: number;
  /** Bank (ring pair) of each instance, per kind, in instance order. */
  banks: Record<InstanceKind, number[]>;
  numCy: number;
}

/** Count instances from a ring-to-service map and a capability mask. Throws on codes upstream rejects. */
export function layoutFromMap(map: number, mask: number, where: string): VfInstanceLayout {
  const banks: Record<InstanceKind, number[]> = { asym: [], sym: [], dc: [], decomp: [] };
  let services = 0;
  for (let i = 0; i < RING_PAIRS; i++) {
    const code = (map >> (3 * i)) & 7;
    switch (code) {
      case RingCode.UNUSED:
        break;
      case RingCode.SYM:
        if (mask & Cap.CRYPTO_SYMMETRIC) { banks.sym.push(i); services |= Serv.SYM; }
        break;
      case RingCode.ASYM:
        if (mask & Cap.CRYPTO_ASYMMETRIC) { banks.asym.push(i); services |= Serv.ASYM; }
        break;
      case RingCode.COMP:
        if (mask & Cap.COMPRESSION) { banks.dc.push(i); services |= Serv.DC; }
        break;
      case RingCode.DECOMP:
        if (mask & Cap.COMPRESSION) { banks.decomp.push(i); services |= Serv.DECOMP; }
        break;
      default:
        throw new QatmgrError(ErrorCodes.QATMGR_E_UNKNOWN_SERVICE, `${where}: Detected unknown service code ${code} on ring pair ${i} (map 0x${map.toString(16)})`);
    }
  }
  const s = banks.sym.length;
  const a = banks.asym.length;
  // upstream's comment says minimum; its code takes the larger count
  const numCy = s === 0 ? a : a === 0 ? s : Math.max(s, a);
  return { services, banks, numCy };
}

/** `services` values for which a CY instance reports its asym half (protocol §8.3). */
const CY_FROM_ASYM = new Set([4, 5, 20, 7, 22, 21]);

export function cyUsesAsym(services: number): boolean {
  return CY_FROM_ASYM.has(services);
}
