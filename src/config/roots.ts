// The filesystem roots through which every path on the machine is reached (sysfs, /dev, /run/qat, /proc, /etc).

import path from 'node:path';

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
