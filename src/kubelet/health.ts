// Device health for ListAndWatch: a small source interface, and the default that reads what the kernel shows today.
//
// The default reads, every interval, each PF's sysfs directory and `qat/state` ("up" serves; "down" does not;
// absent on older kernels counts as up) and whether each VF's sysfs directory and /dev/vfio node still exist.
// A richer source (heartbeat, error counters: the health issue's per-PF states) plugs in through DeviceHealthSource.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { VfInfo } from '../platform/discover.js';
import { readAttr } from '../platform/fsio.js';
import type { HealthMonitor } from '../health/index.js';

/** The health issue's PF states; degraded still serves. */
export type PfState = 'healthy' | 'degraded' | 'unhealthy' | 'gone';

export interface PfHealth {
  state: PfState;
  /** What was seen, for logs and `qatctl kubelet`. */
  reason: string | null;
}

export interface DeviceHealthSource {
  readonly name: string;
  pf(bdf: string): PfHealth;
  vfPresent(vf: VfInfo): boolean;
  /** Read again now; true when anything changed since the last read. */
  refresh(): boolean;
}

/** The default source: sysfs and /dev through Roots. */
export class SysfsDeviceHealth implements DeviceHealthSource {
  readonly name: string = 'sysfs';
  private pfs = new Map<string, PfHealth>();
  private absent = new Set<string>();

  constructor(private readonly roots: Roots, private vfs: readonly VfInfo[]) {
    this.refresh();
  }

  /** Follow a new inventory (after a rescan). */
  setVfs(vfs: readonly VfInfo[]): void {
    this.vfs = vfs;
    this.refresh();
  }

  pf(bdf: string): PfHealth {
    return this.pfs.get(bdf) ?? { state: 'healthy', reason: null };
  }

  vfPresent(vf: VfInfo): boolean {
    return !this.absent.has(vf.bdf);
  }

  private readPf(bdf: string): PfHealth {
    const dir = path.join(this.roots.sys, 'bus', 'pci', 'devices', bdf);
    if (!fs.existsSync(dir)) return { state: 'gone', reason: `${dir} is gone` };
    const st = readAttr(path.join(dir, 'qat', 'state'));
    if (!st.ok) return { state: 'healthy', reason: st.error === 'ENOENT' ? null : `qat/state: ${st.error}` };
    const v = st.text.trim();
    return v === 'down' ? { state: 'unhealthy', reason: 'qat/state is down' } : { state: 'healthy', reason: v === 'up' ? null : `qat/state is "${v}"` };
  }

  refresh(): boolean {
    const pfs = new Map<string, PfHealth>();
    const absent = new Set<string>();
    for (const vf of this.vfs) {
      if (vf.pf && !pfs.has(vf.pf.bdf)) pfs.set(vf.pf.bdf, this.readPf(vf.pf.bdf));
      if (!fs.existsSync(path.join(this.roots.sys, 'bus', 'pci', 'devices', vf.bdf)) || !fs.existsSync(vf.vfioNode)) absent.add(vf.bdf);
    }
    let changed = absent.size !== this.absent.size || [...absent].some((b) => !this.absent.has(b));
    for (const [bdf, h] of pfs) {
      const was = this.pfs.get(bdf);
      if (!was || was.state !== h.state) changed = true;
    }
    this.pfs = pfs;
    this.absent = absent;
    return changed;
  }
}

/**
 * The daemon's health loop (src/health/: heartbeat, RAS counters, state, presence, with hysteresis) for the PFs; VF
 * presence as the default source reads it. Used whenever the health loop runs (--health-interval above 0).
 */
export class MonitorDeviceHealth extends SysfsDeviceHealth {
  override readonly name = 'health loop';
  private last = '';

  constructor(private readonly monitor: HealthMonitor, roots: Roots, vfs: readonly VfInfo[]) {
    super(roots, vfs);
  }

  override pf(bdf: string): PfHealth {
    const s = this.monitor.states().find((p) => p.pf === bdf);
    return s ? { state: s.state, reason: s.reason || null } : super.pf(bdf);
  }

  override refresh(): boolean {
    const vfs = super.refresh();
    // the base constructor reads once before this.monitor is set
    if (!this.monitor) return vfs;
    const now = this.monitor.states().map((p) => `${p.pf}=${p.state}`).join(',');
    const changed = now !== this.last;
    this.last = now;
    return vfs || changed;
  }
}
