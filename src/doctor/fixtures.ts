// Simulated hosts for doctor: the healthy base (the simulator's host) and one breaker per problem doctor names.

import fs from 'node:fs';
import path from 'node:path';
import { generateHost, parseSimSpec, deviceDir } from '../sim/index.js';
import { under, type Roots } from '../config/roots.js';
import { SIM_APP_USER } from '../sim/userland.js';

export interface FixtureHost {
  dir: string;
  roots: Roots;
}

/** A complete, healthy simulated host (every doctor check passes once a daemon listens on its socket). */
export function healthyHost(dir: string, spec = 'default'): FixtureHost {
  const g = generateHost(dir, parseSimSpec(spec), { force: true });
  return { dir: g.dir, roots: g.roots };
}

function write(p: string, text: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

function editLines(p: string, edit: (lines: string[]) => string[]): void {
  const lines = fs.readFileSync(p, 'utf8').replace(/\n$/, '').split('\n');
  fs.writeFileSync(p, `${edit(lines).join('\n')}\n`);
}

function firstVf(roots: Roots): string {
  return fs.readdirSync(under(roots.sys, 'bus', 'pci', 'drivers', 'vfio-pci')).filter((n) => /^[0-9a-f]{4}:/.test(n)).sort()[0];
}

/** Each breaker turns a healthy host into one with exactly one problem (named after the check it trips). */
export const breakers = {
  /** A C62x PF and VF (legacy, OOT only) next to the 4xxx devices. */
  legacyDevice(roots: Roots): void {
    for (const [bdf, id] of [['0000:3d:00.0', '0x37c8'], ['0000:3d:01.0', '0x37c9']] as const) {
      const d = deviceDir(roots, bdf);
      write(path.join(d, 'vendor'), '0x8086\n');
      write(path.join(d, 'device'), `${id}\n`);
      fs.symlinkSync(path.relative(under(roots.sys, 'bus', 'pci', 'devices'), d), under(roots.sys, 'bus', 'pci', 'devices', bdf));
    }
  },
  removeFirmware(roots: Roots): void {
    fs.rmSync(path.join(roots.firmware, 'qat_4xxx_mmp.bin'));
  },
  compressFirmware(roots: Roots): void {
    for (const f of ['qat_4xxx.bin', 'qat_4xxx_mmp.bin']) fs.renameSync(path.join(roots.firmware, f), path.join(roots.firmware, `${f}.xz`));
  },
  moduleLoading(roots: Roots): void {
    editLines(under(roots.proc, 'modules'), (ls) => ls.map((l) => (l.startsWith('qat_4xxx ') ? l.replace(' Live ', ' Loading ') : l)));
  },
  ootModules(roots: Roots): void {
    editLines(under(roots.proc, 'modules'), (ls) => [...ls, 'usdm_drv 94208 0 - Live 0x0000000000000000 (O)', 'qat_api 1093632 0 - Live 0x0000000000000000 (O)']);
  },
  cmdlineNoIommu(roots: Roots): void {
    write(under(roots.proc, 'cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=off\n');
  },
  cmdlineNoPt(roots: Roots): void {
    write(under(roots.proc, 'cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on\n');
  },
  cmdlineVfioPfId(roots: Roots): void {
    write(under(roots.proc, 'cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt vfio-pci.ids=8086:4940,8086:4941\n');
  },
  cmdlineUnsafeNoiommu(roots: Roots): void {
    write(under(roots.proc, 'cmdline'), 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt vfio.enable_unsafe_noiommu_mode=1\n');
  },
  vfWithoutGroup(roots: Roots): void {
    fs.rmSync(path.join(under(roots.sys, 'bus', 'pci', 'devices', firstVf(roots)), 'iommu_group'));
  },
  unbindVf(roots: Roots): void {
    const bdf = firstVf(roots);
    fs.rmSync(path.join(under(roots.sys, 'bus', 'pci', 'devices', bdf), 'driver'));
    fs.rmSync(under(roots.sys, 'bus', 'pci', 'drivers', 'vfio-pci', bdf));
  },
  vfioNodeWrongGroup(roots: Roots): void {
    const n = fs.readdirSync(under(roots.dev, 'vfio')).filter((x) => /^[0-9]+$/.test(x)).sort()[0];
    fs.chownSync(under(roots.dev, 'vfio', n), -1, 0);
    fs.chmodSync(under(roots.dev, 'vfio', n), 0o600);
  },
  dropQatGroup(roots: Roots): void {
    editLines(under(roots.etc, 'group'), (ls) => ls.filter((l) => !l.startsWith('qat:')));
  },
  /** A user `bob` who is not in group qat. */
  userNotInGroup(roots: Roots): void {
    editLines(under(roots.etc, 'passwd'), (ls) => [...ls, 'bob:x:1002:1002::/home/bob:/bin/sh']);
    editLines(under(roots.etc, 'group'), (ls) => [...ls, 'bob:x:1002:']);
  },
  noMemlock(roots: Roots): void {
    fs.rmSync(under(roots.etc, 'security', 'limits.d', 'qat.conf'));
    write(under(roots.etc, 'security', 'limits.conf'), `# default limits\n${SIM_APP_USER.name} soft memlock 65536\n`);
  },
  ootServiceScript(roots: Roots): void {
    write(under(roots.etc, 'init.d', 'qat_service'), '#!/bin/sh\n# OOT qat_service\n');
  },
  ootConfFiles(roots: Roots): void {
    write(under(roots.etc, '4xxx_dev0.conf'), '[GENERAL]\nServicesEnabled = asym;sym\n');
    write(under(roots.etc, '4xxx_dev1.conf'), '[GENERAL]\nServicesEnabled = dc\n');
  },
  icpRoot(roots: Roots): void {
    write(under(roots.etc, 'profile.d', 'qat.sh'), 'export ICP_ROOT=/opt/QAT\n');
  },
  ootLibs(roots: Roots): void {
    const sysroot = path.dirname(roots.etc);
    write(path.join(sysroot, 'usr', 'local', 'lib', 'libqat_s.so'), 'ELF');
    write(path.join(sysroot, 'usr', 'local', 'lib', 'libusdm_drv_s.so'), 'ELF');
    write(under(roots.etc, 'ld.so.conf.d', 'qat.conf'), '/usr/local/lib\n');
  },
  serviceDisabled(roots: Roots): void {
    fs.rmSync(under(roots.etc, 'systemd', 'system', 'multi-user.target.wants', 'qat.service'));
  },
  sysconfigSyntax(roots: Roots): void {
    write(under(roots.etc, 'sysconfig', 'qat'), 'POLICY=0\nServicesEnabled sym;asym\n');
  },
  sysconfigCommentedServices(roots: Roots): void {
    write(under(roots.etc, 'sysconfig', 'qat'), '#ServicesEnabled=dc\nServicesEnabled=sym;asym\n');
  },
  policyTooLarge(roots: Roots): void {
    write(under(roots.etc, 'sysconfig', 'qat'), 'POLICY=40\n');
  },
  policyLeavesVfsUnused(roots: Roots): void {
    write(under(roots.etc, 'sysconfig', 'qat'), 'POLICY=3\n');
  },
  pfServicesMismatch(roots: Roots): void {
    const pf = fs.readdirSync(under(roots.sys, 'bus', 'pci', 'drivers', '4xxx')).filter((n) => /^[0-9a-f]{4}:/.test(n)).sort()[1];
    write(path.join(under(roots.sys, 'bus', 'pci', 'devices', pf), 'qat', 'cfg_services'), 'sym\n');
  },
} as const;

export type BreakerName = keyof typeof breakers;
