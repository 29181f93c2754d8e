// Facts about a live process from /proc/<pid> (comm, cmdline, uid, cgroup unit/container, allowed NUMA nodes).

import fs from 'node:fs';
import path from 'node:path';
import type { CpuTable } from '../platform/cpus.js';
import { parseCpuList, nodesForCpus } from '../platform/cpus.js';
import { cgroupPath, unitAndContainer } from '../platform/processes.js';

export { cgroupPath, unitAndContainer, nodesForCpus };

export const CMDLINE_MAX = 160;

export interface ProcessFacts {
  /** False when /proc/<pid> is gone (the holder exited or lives in another pid namespace). */
  alive: boolean;
  comm: string | null;
  /** Arguments joined by spaces, truncated to CMDLINE_MAX characters (with "…"). */
  cmdline: string | null;
  /** systemd unit (e.g. nginx.service, session-3.scope) from the cgroup path. */
  unit: string | null;
  /** Container runtime and short id (docker:3f2a…, podman:…, kubepods:…, lxc:…). */
  container: string | null;
  cgroup: string | null;
  /** NUMA nodes whose CPUs the process may run on (Cpus_allowed_list); null if unknown. */
  numaNodes: number[] | null;
}

function readOrNull(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Read what /proc tells about `pid` under the live-process root `pidsRoot` (Roots.pids). */
export function readProcessFacts(pidsRoot: string, pid: number, cpus: CpuTable): ProcessFacts {
  const dir = path.join(pidsRoot, String(pid));
  const comm = pid > 0 ? readOrNull(path.join(dir, 'comm')) : null;
  if (comm === null) return { alive: false, comm: null, cmdline: null, unit: null, container: null, cgroup: null, numaNodes: null };
  const rawCmd = readOrNull(path.join(dir, 'cmdline'));
  const cmdline = rawCmd === null ? null : truncate(rawCmd.replace(/\0+$/, '').split('\0').join(' '), CMDLINE_MAX);
  const cgText = readOrNull(path.join(dir, 'cgroup'));
  const cg = cgText === null ? null : cgroupPath(cgText);
  const uc = cg === null ? { unit: null, container: null } : unitAndContainer(cg);
  const status = readOrNull(path.join(dir, 'status'));
  let numaNodes: number[] | null = null;
  const m = status === null ? null : /^Cpus_allowed_list:\s*(.*)$/m.exec(status);
  if (m) {
    const allowed = parseCpuList(m[1]);
    if (allowed) numaNodes = nodesForCpus(allowed, cpus);
  }
  return { alive: true, comm: comm.replace(/\n$/, ''), cmdline, unit: uc.unit, container: uc.container, cgroup: cg, numaNodes };
}

/** uid -> user name from passwd files tried in order (the host's, then the real /etc/passwd). */
export class UserNames {
  private readonly map = new Map<number, string>();

  constructor(files: string[]) {
    for (const f of files) {
      const text = readOrNull(f);
      if (text === null) continue;
      for (const line of text.split('\n')) {
        const p = line.split(':');
        if (p.length < 3 || !/^\d+$/.test(p[2])) continue;
        const uid = Number(p[2]);
        if (!this.map.has(uid)) this.map.set(uid, p[0]);
      }
    }
  }

  /** The name, or the number as text when no passwd file knows it. */
  name(uid: number): string {
    return this.map.get(uid) ?? String(uid);
  }
}
