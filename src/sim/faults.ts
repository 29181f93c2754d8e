// Fault injection for the simulated kernel: make a chosen operation on a chosen path fail with a chosen errno.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QatmgrError, ErrorCodes } from '../errors.js';

export type FaultOp = 'write' | 'chown' | 'chmod' | 'mkdir' | 'any';

export interface FaultRule {
  op: FaultOp;
  /** Glob over the path relative to the simulated host's directory (`*` crosses `/`), or an absolute glob. */
  path: string;
  errno: string;
  /** Fail from the nth matching operation on (1-based, default 1). */
  nth: number;
  /** How many times to fail from there; `Infinity` = every time (spelled `*`). Default 1. */
  count: number;
}

/** Name of the faults file a simulated host may hold (read by every process that opens the simulated kernel). */
export const FAULTS_FILE = 'faults.json';

export const FAULT_HELP = `Fault injection (simulated hosts only):
  QATSIM_FAULT='[OP@]GLOB:ERRNO[:NTH[:COUNT]]'  several rules joined by ';'
  or DIR/${FAULTS_FILE}: [{"op":"write","path":"GLOB","errno":"EBUSY","nth":7,"count":"*"}]
  OP write|chown|chmod|mkdir (default: any); GLOB over the path relative to DIR ('*' matches across '/');
  NTH: fail from the nth matching operation (default 1); COUNT: how many times, '*' = always (default 1).
  Example: QATSIM_FAULT='write@*/drivers/vfio-pci/bind:EBUSY:7:*' fails the bind of the 7th VF and its retries.`;

function bad(where: string, msg: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${where}: ${msg}`);
}

function checkErrno(where: string, errno: string): string {
  const e = errno.trim().toUpperCase();
  if (!(e in os.constants.errno)) throw bad(where, `"${errno}" is not an errno name (e.g. EBUSY, EINVAL, EPERM)`);
  return e;
}

function parseCount(where: string, v: string | number | undefined): number {
  if (v === undefined || v === '') return 1;
  if (v === '*') return Infinity;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw bad(where, `count "${v}" is not a positive integer or '*'`);
  return n;
}

function parseNth(where: string, v: string | number | undefined): number {
  if (v === undefined || v === '') return 1;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw bad(where, `nth "${v}" is not a positive integer`);
  return n;
}

const OPS: FaultOp[] = ['write', 'chown', 'chmod', 'mkdir', 'any'];

/** Parse the QATSIM_FAULT syntax. */
export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const part of spec.split(';').map((s) => s.trim()).filter(Boolean)) {
    const where = `QATSIM_FAULT "${part}"`;
    let rest = part;
    let op: FaultOp = 'any';
    const at = rest.indexOf('@');
    if (at > 0 && OPS.includes(rest.slice(0, at) as FaultOp)) {
      op = rest.slice(0, at) as FaultOp;
      rest = rest.slice(at + 1);
    }
    // the glob may itself hold ':' (PCI addresses): the errno is the last field that looks like one
    const fields = rest.split(':');
    let e = -1;
    for (let i = fields.length - 1; i >= 1; i--) {
      if (/^E[A-Z0-9]+$/.test(fields[i].trim())) {
        e = i;
        break;
      }
    }
    if (e < 1 || fields.length - e > 3) throw bad(where, 'expected [OP@]GLOB:ERRNO[:NTH[:COUNT]]');
    rules.push({ op, path: fields.slice(0, e).join(':'), errno: checkErrno(where, fields[e]), nth: parseNth(where, fields[e + 1]), count: parseCount(where, fields[e + 2]) });
  }
  return rules;
}

/** Read DIR/faults.json when present. */
export function readFaultsFile(dir: string): FaultRule[] {
  const file = path.join(dir, FAULTS_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw bad(file, `cannot read: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw bad(file, 'expected a JSON array of {op, path, errno, nth, count}');
  return raw.map((r: Record<string, unknown>, i) => {
    const where = `${file}[${i}]`;
    const op = (r.op ?? 'any') as FaultOp;
    if (!OPS.includes(op)) throw bad(where, `op "${String(r.op)}" is not one of ${OPS.join(', ')}`);
    if (typeof r.path !== 'string' || !r.path) throw bad(where, 'needs a "path" glob');
    return { op, path: r.path, errno: checkErrno(where, String(r.errno ?? '')), nth: parseNth(where, r.nth as number), count: parseCount(where, r.count as number) };
  });
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/** Counts matching operations per rule and decides which one fails. One instance per process. */
export class FaultInjector {
  private readonly compiled: Array<FaultRule & { re: RegExp; seen: number }>;
  constructor(readonly baseDir: string, rules: FaultRule[]) {
    this.compiled = rules.map((r) => ({ ...r, re: globToRegExp(r.path), seen: 0 }));
  }

  get active(): boolean {
    return this.compiled.length > 0;
  }

  /** Throw the injected error if `op` on `p` is due to fail. */
  check(op: Exclude<FaultOp, 'any'>, p: string, syscall: string): void {
    if (this.compiled.length === 0) return;
    const rel = path.relative(this.baseDir, p);
    for (const r of this.compiled) {
      if (r.op !== 'any' && r.op !== op) continue;
      if (!r.re.test(rel) && !r.re.test(p)) continue;
      r.seen++;
      if (r.seen >= r.nth && r.seen < r.nth + r.count) throw sysError(r.errno, syscall, p, ' (injected)');
    }
  }
}

/** A Node-style system error (`code`, `errno`, `syscall`, `path`). */
export function sysError(code: string, syscall: string, p: string, note = ''): NodeJS.ErrnoException {
  const errno = (os.constants.errno as Record<string, number>)[code] ?? 0;
  const e = new Error(`${code}: ${syscall} '${p}'${note}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = -errno;
  e.syscall = syscall;
  e.path = p;
  return e;
}
