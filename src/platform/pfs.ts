// The PF table (pkg_id, domain, bdf, device_gen) from the kernel PF drivers' sysfs directories (behaviour §8).

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { PF_DRIVERS, type PfDriver } from '../kernel/catalogue.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { listDir } from './fsio.js';
import { parseBdf, packBdf16, type PciAddress } from './pci.js';

export const MAX_PFS = 256;

export interface PfInfo {
  pkgId: number;
  bdf: string;
  addr: PciAddress;
  /** bus << 8 | dev << 3 | fn. */
  bdf16: number;
  /** The kernel PF driver name, sent as `device_gen`. */
  driver: PfDriver;
}

/**
 * Build the PF table. Driver presence is an exact directory-name match (upstream compares 5 bytes, so a
 * `420xxvf` entry made it scan a missing `420xx` directory: quirk 16).
 */
export function readPfTable(roots: Roots): PfInfo[] {
  const driversDir = path.join(roots.sys, 'bus', 'pci', 'drivers');
  const present = new Set(listDir(driversDir) ?? []);
  const pfs: PfInfo[] = [];
  for (const driver of PF_DRIVERS) {
    if (!present.has(driver)) continue;
    const dir = path.join(driversDir, driver);
    const entries = listDir(dir);
    if (entries === undefined) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_PF_TABLE, `${dir}: cannot list the PFs bound to driver ${driver}`, { path: dir });
    }
    for (const e of entries) {
      const addr = parseBdf(e);
      if (!addr || e !== e.trim()) continue;
      pfs.push({ pkgId: pfs.length, bdf: e.toLowerCase(), addr, bdf16: packBdf16(addr), driver });
    }
  }
  if (pfs.length > MAX_PFS) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_PF_TABLE, `${pfs.length} PFs found under ${driversDir}; at most ${MAX_PFS} are supported`);
  }
  return pfs;
}
