// The filesystem roots through which every path on the machine is reached (sysfs, /dev, /run/qat, /proc, /etc).

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes } from '../errors.js';

export interface Roots {
  /** sysfs mount, default `/sys`. */
  sys: string;
  /** device nodes, default `/dev`. */
  dev: string;
  /** the run directory holding socket, pid file and ledger, default `/run/qat`. */
  run: string;
  /** procfs for kernel facts (`modules`, `cmdline`), default `/proc`. A simulated host has its own. */
  proc: string;
  /** procfs for live processes (`<pid>/stat`, `comm`, `cgroup`), default `/proc`; real even on a simulated host. */
  pids: string;
  /** configuration root, default `/etc`. */
  etc: string;
  /** firmware directory, default `/lib/firmware`. */
  firmware: string;
}

export const DEFAULT_ROOTS: Readonly<Roots> = Object.freeze({
  sys: '/sys',
  dev: '/dev',
  run: '/run/qat',
  proc: '/proc',
  pids: '/proc',
  etc: '/etc',
  firmware: '/lib/firmware',
});

/** Roots for a simulated host laid out under one directory (as `qatctl simulate --out DIR` writes it). */
export function simulatedRoots(dir: string): Roots {
  const base = path.resolve(dir);
  return {
    sys: path.join(base, 'sys'),
    dev: path.join(base, 'dev'),
    run: path.join(base, 'run', 'qat'),
    proc: path.join(base, 'proc'),
    pids: '/proc',
    etc: path.join(base, 'etc'),
    firmware: path.join(base, 'lib', 'firmware'),
  };
}

/** Join a path inside a root; `rel` may start with `/` (it is always taken as relative to the root). */
export function under(root: string, ...rel: string[]): string {
  return path.join(root, ...rel.map((r) => r.replace(/^\/+/, '')));
}

/** The command-line options that set roots, shared by qatmgr and the qatctl commands that read the machine. */
export const ROOT_OPTIONS = {
  'sim-dir': { type: 'string' },
  'sysfs-root': { type: 'string' },
  'dev-root': { type: 'string' },
  'proc-root': { type: 'string' },
  'etc-root': { type: 'string' },
  'firmware-root': { type: 'string' },
  'run-dir': { type: 'string' },
} as const;

export type RootOptionValues = Partial<Record<keyof typeof ROOT_OPTIONS, string>>;

/**
 * Roots from those options: `--sim-dir DIR` lays every root under DIR (simulatedRoots), each `--*-root` then overrides
 * one root; relative paths are taken from `cwd`. `base` replaces the default of /sys, /dev, … when no sim dir is given.
 */
export function rootsFromOptions(v: RootOptionValues, cwd: string, base?: Roots): Roots {
  const abs = (p: string): string => path.resolve(cwd, p);
  const b: Roots = v['sim-dir'] ? simulatedRoots(abs(v['sim-dir'])) : { ...(base ?? DEFAULT_ROOTS) };
  return {
    ...b,
    sys: v['sysfs-root'] ? abs(v['sysfs-root']) : b.sys,
    dev: v['dev-root'] ? abs(v['dev-root']) : b.dev,
    proc: v['proc-root'] ? abs(v['proc-root']) : b.proc,
    etc: v['etc-root'] ? abs(v['etc-root']) : b.etc,
    firmware: v['firmware-root'] ? abs(v['firmware-root']) : b.firmware,
    run: v['run-dir'] ? abs(v['run-dir']) : b.run,
  };
}

/**
 * Check the root options a person typed before anything reads the machine: each named directory exists, and a
 * `--sim-dir` is a simulated host (holds sim.json); a typo would otherwise check or change an empty or wrong tree.
 */
export function checkRootOptions(v: RootOptionValues, cwd: string): void {
  for (const [name, value] of Object.entries(v) as Array<[keyof typeof ROOT_OPTIONS, string | undefined]>) {
    if (value === undefined || !(name in ROOT_OPTIONS)) continue;
    const abs = path.resolve(cwd, value);
    let isDir = false;
    try { isDir = fs.statSync(abs).isDirectory(); } catch { /* missing */ }
    if (!isDir) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--${name} "${value}": no such directory`, { option: name, value });
    if (name === 'sim-dir' && !fs.existsSync(path.join(abs, 'sim.json'))) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--sim-dir "${value}" is not a simulated host (no sim.json; make one with 'qatctl simulate SPEC --out ${value}')`, { option: name, value });
    }
  }
}
