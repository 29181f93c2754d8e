// Checks 1-2: which QAT devices the host has (GEN4+ or legacy), and the firmware their in-tree driver loads.

import path from 'node:path';
import { exists } from '../host-scan.js';
import type { ScannedHost } from '../host-scan.js';
import type { Roots } from '../../config/roots.js';
import { FIRMWARE_FILES, FIRMWARE_SUFFIXES } from '../../kernel/firmware.js';
import { result, type CheckResult } from '../types.js';

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function countBy<T>(items: T[], key: (t: T) => string): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].map(([k, n]) => `${n} ${k}`).join(', ');
}

export function checkDevices(host: ScannedHost, roots: Roots): CheckResult {
  if (host.legacy.length > 0) {
    const seen = countBy(host.legacy, (d) => `${d.gen.name} ${d.role} (${hex(d.id)})`);
    return result('devices', 'FAIL',
      `legacy QAT generation: ${seen} at ${host.legacy.map((d) => d.bdf).join(', ')}; the in-tree stack serves GEN4+ only: cannot migrate without a hardware change`,
      ['keep these hosts on the out-of-tree package, or move the workload to 4xxx/401xx/402xx/420xx/6xxx hardware']);
  }
  if (host.pfs.length === 0 && host.vfs.length === 0) {
    return result('devices', 'FAIL', `no Intel QAT device found under ${roots.sys}/bus/pci/devices`,
      ['check the card is seated and enabled in the BIOS: lspci -nn -d 8086:', 'a VM needs QAT VFs passed through (vfio-pci on the host)']);
  }
  const parts: string[] = [];
  if (host.pfs.length) parts.push(`${countBy(host.pfs, (p) => `${p.family.name} PF (${hex(p.id)})`)}`);
  if (host.vfs.length) parts.push(`${countBy(host.vfs, (v) => `${v.family.name} VF (${hex(v.id)})`)}`);
  if (host.pfs.length === 0) parts.push('no PF: a guest');
  return result('devices', 'PASS', parts.join(', '));
}

export function checkFirmware(host: ScannedHost, roots: Roots): CheckResult {
  if (host.pfs.length === 0) {
    return result('firmware', 'PASS', host.vfs.length ? 'guest (no PF): firmware is loaded by the host' : 'no GEN4+ PF: nothing to load');
  }
  const wanted = [...new Set(host.pfs.flatMap((p) => FIRMWARE_FILES[p.family.name]))];
  const found: string[] = [];
  const missing: string[] = [];
  for (const name of wanted) {
    const hit = FIRMWARE_SUFFIXES.map((s) => name + s).find((n) => exists(path.join(roots.firmware, n)));
    if (hit) found.push(hit);
    else missing.push(name);
  }
  if (missing.length === 0) return result('firmware', 'PASS', `${found.join(', ')} in ${roots.firmware}`);
  const modules = [...new Set(host.pfs.map((p) => p.family.module))].join(' ');
  return result('firmware', 'FAIL', `missing in ${roots.firmware}: ${missing.join(', ')} (plain, .xz or .zst)`, [
    `install the distribution's linux-firmware package (Debian: firmware-misc-nonfree) or copy ${missing.join(' ')} from linux-firmware.git into ${roots.firmware}/`,
    `then reload the driver: modprobe -r ${modules} && modprobe ${modules}`,
  ]);
}
