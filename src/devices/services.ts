// Service names, protocol bit values and the 3-bit ring-to-service codes (protocol §10.1–§10.2, behaviour §9.4–§9.5).

/** `enum serv_type` bits (DEVICE_INFO `services`, INSTANCE_* `inst.type`). */
export const Serv = { DC: 1, SYM: 2, ASYM: 4, CY: 6, DECOMP: 16 } as const;

/** `enum cfg_service_type`: the 3-bit code of one ring pair in the ring-to-service map. */
export const RingCode = { UNUSED: 0, CRYPTO: 1, COMP: 2, SYM: 3, ASYM: 4, DECOMP: 5, USED: 6 } as const;

export const MAP_CRYPTO_DEFAULT = 0x071c;
export const MAP_DC_ONLY = 0x0492;
export const RING_PAIRS = 4;

/** Capability bits (protocol §10.4) that this manager reasons about. */
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

/** Upstream's fallback capability mask when the PF cannot be asked: 0x0403B20F. */
export const FALLBACK_CAPS =
  Cap.CRYPTO_SYMMETRIC | Cap.CRYPTO_ASYMMETRIC | Cap.CIPHER | Cap.AUTHENTICATION | Cap.CRYPTO_SHA3 | Cap.HKDF |
  Cap.ECEDMONT | Cap.SHA3_EXT | Cap.AESGCM_SPC | Cap.CHACHA_POLY | Cap.AES_V2;

/** Service names the kernel accepts in `qat/cfg_services`. */
export type ServiceName = 'sym' | 'asym' | 'dc' | 'dcc' | 'decomp';
export const SERVICE_NAMES: readonly ServiceName[] = ['sym', 'asym', 'dc', 'dcc', 'decomp'];

/** Split and normalise a services string ("Asym ; SYM" -> ['asym','sym']); undefined names are returned in `unknown`. */
export function splitServices(text: string): { services: ServiceName[]; unknown: string[] } {
  const services: ServiceName[] = [];
  const unknown: string[] = [];
  for (const raw of text.replace(/^["']|["']$/g, '').split(';')) {
    const t = raw.trim().toLowerCase();
    if (!t) continue;
    if ((SERVICE_NAMES as readonly string[]).includes(t)) {
      if (!services.includes(t as ServiceName)) services.push(t as ServiceName);
    } else {
      unknown.push(raw.trim());
    }
  }
  return { services, unknown };
}
