// Protocol service bits, upstream's fallback map and mask, and the tolerant services-list reader (protocol §10.1–§10.2, behaviour §9.5).

import { Cap } from '../kernel/capabilities.js';
import { SERVICE_ORDER, type Service } from '../kernel/services.js';

/** `enum serv_type` bits (DEVICE_INFO `services`, INSTANCE_* `inst.type`). */
export const Serv = { DC: 1, SYM: 2, ASYM: 4, CY: 6, DECOMP: 16 } as const;

export const MAP_CRYPTO_DEFAULT = 0x071c;
export const MAP_DC_ONLY = 0x0492;

/** Upstream's fallback capability mask when the PF cannot be asked: 0x0403B20F. */
export const FALLBACK_CAPS =
  Cap.CRYPTO_SYMMETRIC | Cap.CRYPTO_ASYMMETRIC | Cap.CIPHER | Cap.AUTHENTICATION | Cap.CRYPTO_SHA3 | Cap.HKDF |
  Cap.ECEDMONT | Cap.SHA3_EXT | Cap.AESGCM_SPC | Cap.CHACHA_POLY | Cap.AES_V2;

/** Service names the kernel accepts in `qat/cfg_services`. */
export type ServiceName = Service;

/** Split and normalise a services string ("Asym ; SYM" -> ['asym','sym']); undefined names are returned in `unknown`. */
export function splitServices(text: string): { services: ServiceName[]; unknown: string[] } {
  const services: ServiceName[] = [];
  const unknown: string[] = [];
  for (const raw of text.replace(/^["']|["']$/g, '').split(';')) {
    const t = raw.trim().toLowerCase();
    if (!t) continue;
    if ((SERVICE_ORDER as readonly string[]).includes(t)) {
      if (!services.includes(t as ServiceName)) services.push(t as ServiceName);
    } else {
      unknown.push(raw.trim());
    }
  }
  return { services, unknown };
}

/** Names of the services in a DEVICE_INFO `services` value, in the admin API's instance order (asym, sym, dc, decomp). */
export function serviceNames(bits: number): string[] {
  const out: string[] = [];
  if (bits & Serv.ASYM) out.push('asym');
  if (bits & Serv.SYM) out.push('sym');
  if (bits & Serv.DC) out.push('dc');
  if (bits & Serv.DECOMP) out.push('decomp');
  return out;
}
