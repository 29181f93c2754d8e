// Capability sources: what each VF can do (mask, ring-to-service map), from PF sysfs or upstream's fallback values.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { PfInfo } from '../platform/pfs.js';
import type { VfInfo } from '../platform/discover.js';
import { readAttr } from '../platform/fsio.js';
import { FALLBACK_CAPS, MAP_CRYPTO_DEFAULT, MAP_DC_ONLY, splitServices } from './services.js';
import { Cap, capsForServices, ringMapForServices } from '../kernel/capabilities.js';

export interface FwCaps {
  compAlgos: number;
  cksumAlgos: number;
  deflateCaps: number;
  lz4Caps: number;
  lz4sCaps: number;
  zstdCaps: number;
}

export interface VfCaps {
  capabilityMask: number;
  extDcCaps: number;
  /** Firmware compression capabilities; undefined = unknown (`is_fw_caps` 0). */
  fwCaps: FwCaps | undefined;
  ringMap: number;
  source: 'sysfs' | 'fallback';
  /** The PF's services as read, for reports. */
  services?: string;
}

/** Where capabilities come from. Implementations must not throw: a PF that cannot answer gets fallback values. */
export interface CapabilitySource {
  readonly name: string;
  capsFor(vf: VfInfo): VfCaps;
}

export function fallbackCaps(): VfCaps {
  return { capabilityMask: FALLBACK_CAPS, extDcCaps: 0, fwCaps: undefined, ringMap: MAP_CRYPTO_DEFAULT, source: 'fallback' };
}

/** Upstream's post-processing of a map: 0 -> crypto default; crypto default with a compression-only mask -> DC map. */
export function normaliseRingMap(map: number, mask: number): number {
  if (map === 0) return MAP_CRYPTO_DEFAULT;
  const crypto = (mask & (Cap.CRYPTO_SYMMETRIC | Cap.CRYPTO_ASYMMETRIC)) !== 0;
  if (map === MAP_CRYPTO_DEFAULT && (mask & Cap.COMPRESSION) && !crypto) return MAP_DC_ONLY;
  return map;
}

/** Upstream's final touches to every VF's mask: ECEDMONT with ASYM; no ZUC-256 on 420xx. */
export function finishMask(mask: number, familyName: string): number {
  let m = mask;
  if (m & Cap.CRYPTO_ASYMMETRIC) m |= Cap.ECEDMONT;
  if (familyName === '420xx') m &= ~Cap.ZUC_256;
  return m >>> 0;
}

/** Every VF gets upstream's fallback values (a kernel without PF/VF messaging). */
export class FallbackCapabilitySource implements CapabilitySource {
  readonly name = 'fallback';
  capsFor(vf: VfInfo): VfCaps {
    const c = fallbackCaps();
    c.capabilityMask = finishMask(c.capabilityMask, vf.family.name);
    return c;
  }
}

export interface SysfsCapsNote {
  pf: string;
  message: string;
  /** 'info' when the file is simply absent (older kernel, minimal tree: upstream's fallback applies); 'warn' for bad content. */
  level: 'info' | 'warn';
}

/**
 * Reads each parent PF's `qat/cfg_services` once (cached per real PF, not per bus: quirk 15) and derives map and mask.
 * A PF that cannot be read (or a VM with no PF) falls back for that PF only (quirk 14).
 */
export class SysfsCapabilitySource implements CapabilitySource {
  readonly name = 'sysfs';
  private readonly cache = new Map<string, VfCaps>();
  readonly notes: SysfsCapsNote[] = [];

  constructor(private readonly roots: Roots) {}

  capsFor(vf: VfInfo): VfCaps {
    if (!vf.pf) return new FallbackCapabilitySource().capsFor(vf);
    const hit = this.cache.get(vf.pf.bdf);
    if (hit) return hit;
    const caps = this.read(vf.pf, vf.family.name);
    this.cache.set(vf.pf.bdf, caps);
    return caps;
  }

  private read(pf: PfInfo, familyName: string): VfCaps {
    const file = path.join(this.roots.sys, 'bus', 'pci', 'devices', pf.bdf, 'qat', 'cfg_services');
    const r = readAttr(file);
    if (!r.ok) {
      this.notes.push({ pf: pf.bdf, message: `${file}: ${r.error}; using fallback capabilities for this PF`, level: r.error === 'ENOENT' ? 'info' : 'warn' });
      return { ...fallbackCaps(), capabilityMask: finishMask(fallbackCaps().capabilityMask, familyName) };
    }
    const text = r.text.trim();
    const { services, unknown } = splitServices(text);
    if (unknown.length > 0 || services.length === 0) {
      this.notes.push({ pf: pf.bdf, message: `${file}: "${text}" is not a services list; using fallback capabilities for this PF`, level: 'warn' });
      return { ...fallbackCaps(), capabilityMask: finishMask(fallbackCaps().capabilityMask, familyName), services: text };
    }
    const mask = finishMask(capsForServices(services), familyName);
    return {
      capabilityMask: mask,
      extDcCaps: 0,
      fwCaps: undefined,
      ringMap: normaliseRingMap(ringMapForServices(services), mask),
      source: 'sysfs',
      services: services.join(';'),
    };
  }
}
