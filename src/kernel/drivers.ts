// Kernel driver and module names around QAT devices: which module provides which PCI driver.

import { FAMILIES } from './catalogue.js';

/** The driver VFs are bound to for user space (and its module, as /proc/modules lists it). */
export const VFIO_DRIVER = 'vfio-pci';
export const VFIO_MODULE = 'vfio_pci';

/** Module that provides a PCI driver (for modprobe and /proc/modules), or undefined if we do not know it. */
export function moduleOfDriver(name: string): string | undefined {
  if (name === VFIO_DRIVER) return VFIO_MODULE;
  for (const f of Object.values(FAMILIES)) {
    if (f.pfDriver === name) return f.module;
    if (f.vfDriver === name) return `qat_${f.vfDriver}`;
  }
  return undefined;
}

/** PCI driver a module registers (module names may be spelled with '-' or '_'). */
export function driverOfModule(mod: string): string | undefined {
  const m = mod.replace(/-/g, '_');
  if (m === VFIO_MODULE) return VFIO_DRIVER;
  for (const f of Object.values(FAMILIES)) {
    if (f.module === m) return f.pfDriver;
    if (`qat_${f.vfDriver}` === m) return f.vfDriver;
  }
  return undefined;
}
