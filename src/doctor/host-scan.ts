// Reads what doctor needs from a host's roots: QAT PFs/VFs in sysfs, modules, cmdline, group/passwd files.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { under } from '../config/roots.js';
import { familyByPfId, familyByVfId, INTEL_VENDOR, type Family } from '../kernel/catalogue.js';
import { parseBdf } from '../platform/pci.js';
import { legacyById, type LegacyGeneration } from './pci-ids.js';

export interface ScannedPf {
  bdf: string;
  id: number;
  family: Family;
  services: string | undefined;
  state: string | undefined;
  totalVfs: number | undefined;
  numVfs: number | undefined;
  driver: string | undefined;
}

export interface ScannedVf {
  bdf: string;
  id: number;
  family: Family;
  driver: string | undefined;
  iommuGroup: number | undefined;
  pfBdf: string | undefined;
}

export interface ScannedLegacy {
  bdf: string;
  id: number;
  gen: LegacyGeneration;
  role: 'PF' | 'VF';
}

export interface ScannedHost {
  pfs: ScannedPf[];
  vfs: ScannedVf[];
  legacy: ScannedLegacy[];
}

/** File content without the trailing newline; undefined when unreadable. */
export function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8').replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export function listDir(p: string): string[] {
  try {
    return fs.readdirSync(p).sort();
  } catch {
    return [];
  }
}

function linkBase(p: string): string | undefined {
  try {
    return path.basename(fs.readlinkSync(p));
  } catch {
    return undefined;
  }
}

function hexFile(p: string): number | undefined {
  const t = readText(p)?.trim();
  if (!t || !/^(0x)?[0-9a-fA-F]+$/.test(t)) return undefined;
  return parseInt(t, 16);
}

function intFile(p: string): number | undefined {
  const t = readText(p)?.trim();
  return t && /^[0-9]+$/.test(t) ? Number(t) : undefined;
}

/** Every Intel QAT function under <sys>/bus/pci/devices, sorted by address. */
export function scanHost(roots: Roots): ScannedHost {
  const host: ScannedHost = { pfs: [], vfs: [], legacy: [] };
  const base = under(roots.sys, 'bus', 'pci', 'devices');
  for (const bdf of listDir(base)) {
    if (!parseBdf(bdf)) continue;
    const d = path.join(base, bdf);
    if (hexFile(path.join(d, 'vendor')) !== INTEL_VENDOR) continue;
    const id = hexFile(path.join(d, 'device'));
    if (id === undefined) continue;
    const driver = linkBase(path.join(d, 'driver'));
    const pfFam = familyByPfId(id);
    if (pfFam) {
      host.pfs.push({
        bdf, id, family: pfFam, driver,
        services: readText(path.join(d, 'qat', 'cfg_services'))?.trim(),
        state: readText(path.join(d, 'qat', 'state'))?.trim(),
        totalVfs: intFile(path.join(d, 'sriov_totalvfs')),
        numVfs: intFile(path.join(d, 'sriov_numvfs')),
      });
      continue;
    }
    const vfFam = familyByVfId(id);
    if (vfFam) {
      const g = linkBase(path.join(d, 'iommu_group'));
      host.vfs.push({
        bdf, id, family: vfFam, driver,
        iommuGroup: g !== undefined && /^[0-9]+$/.test(g) ? Number(g) : undefined,
        pfBdf: linkBase(path.join(d, 'physfn')),
      });
      continue;
    }
    const legacy = legacyById(id);
    if (legacy) host.legacy.push({ bdf, id, gen: legacy.gen, role: legacy.role });
  }
  return host;
}

export interface ModuleLine {
  name: string;
  state: string;
}

/** <proc>/modules as name -> state; undefined when the file is unreadable. */
export function readModules(roots: Roots): Map<string, ModuleLine> | undefined {
  const text = readText(under(roots.proc, 'modules'));
  if (text === undefined) return undefined;
  const out = new Map<string, ModuleLine>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && f[0]) out.set(f[0], { name: f[0], state: f[4] });
  }
  return out;
}

/** <proc>/cmdline split into words (quotes are not expected on QAT hosts). */
export function readCmdline(roots: Roots): string[] | undefined {
  const text = readText(under(roots.proc, 'cmdline'));
  return text === undefined ? undefined : text.trim().split(/\s+/).filter(Boolean);
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
  line: number;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** <etc>/group; undefined when missing. */
export function readGroups(roots: Roots): GroupEntry[] | undefined {
  const text = readText(under(roots.etc, 'group'));
  if (text === undefined) return undefined;
  const out: GroupEntry[] = [];
  text.split('\n').forEach((line, i) => {
    const f = line.split(':');
    if (f.length < 3 || !/^[0-9]+$/.test(f[2])) return;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean), line: i + 1 });
  });
  return out;
}

export function readPasswd(roots: Roots): PasswdEntry[] {
  const text = readText(under(roots.etc, 'passwd')) ?? '';
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && /^[0-9]+$/.test(f[2]) && /^[0-9]+$/.test(f[3])) out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** The directory that stands for `/` on this host: `/` for the real one, the simulated host's directory otherwise. */
export function systemRoot(roots: Roots): string {
  return path.resolve(roots.etc) === '/etc' ? '/' : path.dirname(path.resolve(roots.etc));
}
