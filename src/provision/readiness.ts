// Waits until the QAT kernel side is ready: family modules Live in <proc>/modules, every PF bound with a readable qat/state.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { KernelFs } from '../platform/kernelfs.js';
import type { Inventory } from './inventory.js';
import { QatmgrError } from '../errors.js';

/** PF driver modules whose state must be Live (upstream's list; several are loaded at once on mixed hosts). */
export const READY_MODULES = ['qat_4xxx', 'qat_420xx', 'qat_6xxx'] as const;

export interface NotReady {
  what: string;
  detail: string;
  hint: string;
}

/** Parse `<proc>/modules`: name -> state (Live, Loading, Unloading, Coming...). */
export function moduleStates(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5) m.set(f[0], f[4]);
  }
  return m;
}

/** One readiness check: the list of things not ready yet (empty = ready). */
export function checkReadiness(kfs: KernelFs, roots: Roots, inv: Inventory): NotReady[] {
  const out: NotReady[] = [];
  const modsPath = path.join(roots.proc, 'modules');
  let states = new Map<string, string>();
  try {
    states = moduleStates(kfs.readFile(modsPath));
  } catch (e) {
    out.push({ what: modsPath, detail: `unreadable (${(e as NodeJS.ErrnoException).code})`, hint: `is procfs mounted at ${roots.proc}?` });
  }
  for (const m of READY_MODULES) {
    const st = states.get(m);
    if (st !== undefined && st !== 'Live') {
      out.push({ what: `module ${m}`, detail: `state ${st} in ${modsPath}`, hint: `check 'dmesg | grep -i qat' (are ${m}.bin and ${m}_mmp.bin in /lib/firmware?)` });
    }
  }
  for (const pf of inv.pfs) {
    const mod = pf.family.module;
    if (!kfs.exists(path.join(pf.dir, 'driver'))) {
      const loaded = states.has(mod);
      out.push({
        what: `PF ${pf.bdf} (${pf.family.name})`,
        detail: 'no driver bound',
        hint: loaded ? `module ${mod} is loaded but did not bind: check 'dmesg | grep ${pf.bdf}'` : `module ${mod} is not loaded: 'modprobe ${mod}', then 'dmesg | grep -i qat'`,
      });
      continue;
    }
    try {
      kfs.readFile(path.join(pf.dir, 'qat', 'state'));
    } catch (e) {
      out.push({ what: `PF ${pf.bdf} (${pf.family.name})`, detail: `${path.join(pf.dir, 'qat', 'state')} unreadable (${(e as NodeJS.ErrnoException).code})`, hint: 'the driver is still initialising, or the kernel predates the qat sysfs group (5.17+ needed)' });
    }
  }
  return out;
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  /** Called once when the first check is not ready, then about every second. */
  progress?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function describeNotReady(items: NotReady[]): string {
  return items.map((i) => `  ${i.what}: ${i.detail}; ${i.hint}`).join('\n');
}

/** Poll until ready or the timeout; throws QATMGR_E_NOT_READY naming what is not ready and what to check. */
export async function waitReady(kfs: KernelFs, roots: Roots, inv: Inventory, opts: WaitOptions): Promise<{ waitedMs: number }> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = now();
  let lastProgress = -Infinity;
  for (;;) {
    const items = checkReadiness(kfs, roots, inv);
    const waited = now() - t0;
    if (items.length === 0) return { waitedMs: waited };
    if (waited >= opts.timeoutMs) {
      throw new QatmgrError(
        'QATMGR_E_NOT_READY',
        `the QAT driver is not ready after ${(waited / 1000).toFixed(1)}s (--timeout ${(opts.timeoutMs / 1000).toFixed(1)}s); nothing was changed. Not ready:\n${describeNotReady(items)}`,
        { notReady: items },
      );
    }
    if (opts.progress && waited - lastProgress >= 1000) {
      opts.progress(`waiting for the QAT driver (${(waited / 1000).toFixed(1)}s of ${(opts.timeoutMs / 1000).toFixed(1)}s): ${items.map((i) => `${i.what} ${i.detail}`).join('; ')}`);
      lastProgress = waited;
    }
    await sleep(Math.min(opts.pollMs, Math.max(1, opts.timeoutMs - waited)));
  }
}
