// The shapes doctor works with: what a check is given (roots, user, options) and what it reports.

import type { Roots } from '../config/roots.js';

export type Status = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  /** Stable id, `area.what` (e.g. `vfio.binding`); tests and --json consumers match on it. */
  id: string;
  status: Status;
  /** What was seen, one line. */
  seen: string;
  /** The exact fix (commands or file lines); empty when nothing is to be done. */
  fix: string[];
}

export interface DoctorUser {
  name: string;
  /** undefined when the user is not known to <etc>/passwd (and is not the invoker). */
  uid: number | undefined;
  /** Primary gid from <etc>/passwd (or the invoker's). */
  gid: number | undefined;
  /** The user is the one running doctor: its live process limits apply. */
  isInvoker: boolean;
}

export interface DoctorOptions {
  roots: Roots;
  user: DoctorUser;
  /** Services the applications need (`--expect`), canonical names sym/asym/dc/decomp. */
  expect: string[];
  /** The daemon's socket (`--socket`, default <run>/qatmgr.sock). */
  socketPath: string;
  /** Memory the application pins besides the 16 MiB per VF (MiB). */
  appMemMiB: number;
  /** Environment of the invoker (ICP_ROOT, LD_LIBRARY_PATH). */
  env: NodeJS.ProcessEnv;
  /** How long to wait for the daemon's socket to accept (ms). */
  connectTimeoutMs: number;
}

export interface DoctorReport {
  results: CheckResult[];
  summary: { pass: number; warn: number; fail: number };
}

export function result(id: string, status: Status, seen: string, fix: string[] = []): CheckResult {
  return { id, status, seen, fix };
}
