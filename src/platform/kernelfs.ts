// The filesystem layer provisioning writes the kernel through: the interface and the real (node:fs) implementation.

import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface NodeStat {
  mode: number;
  uid: number;
  gid: number;
  isDirectory: boolean;
}

/**
 * Everything provisioning does to the machine goes through this interface, so the same code runs on a
 * real host (RealKernelFs) and on a simulated one (the simulator's kernel model, which also applies
 * the kernel's rules and effects); the composition root (CLI) chooses. Errors are Node system errors (`code` = errno name, `path`).
 */
export interface KernelFs {
  /** A short name for reports: `real` or `simulated kernel (DIR)`. */
  readonly kind: string;
  readFile(p: string): string;
  /** A sysfs attribute store (one write() of `data`). */
  writeFile(p: string, data: string): void;
  readlink(p: string): string;
  readdir(p: string): string[];
  exists(p: string): boolean;
  stat(p: string): NodeStat;
  chown(p: string, uid: number, gid: number): void;
  chmod(p: string, mode: number): void;
  mkdir(p: string, mode: number): void;
  rmdir(p: string): void;
  /** Load a kernel module (`modprobe NAME`). */
  modprobe(name: string): void;
  /** Unload a kernel module (`modprobe -r NAME`). */
  rmmod(name: string): void;
}

/** The real machine. A sysfs store is one `write()` on a file opened without O_CREAT/O_TRUNC, like `echo > attr`. */
export class RealKernelFs implements KernelFs {
  readonly kind: string = 'real';
  readFile(p: string): string {
    return fs.readFileSync(p, 'utf8');
  }
  writeFile(p: string, data: string): void {
    const fd = fs.openSync(p, fs.constants.O_WRONLY);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  }
  readlink(p: string): string {
    return fs.readlinkSync(p);
  }
  readdir(p: string): string[] {
    return fs.readdirSync(p);
  }
  exists(p: string): boolean {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  }
  stat(p: string): NodeStat {
    const s = fs.statSync(p);
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isDirectory: s.isDirectory() };
  }
  chown(p: string, uid: number, gid: number): void {
    fs.chownSync(p, uid, gid);
  }
  chmod(p: string, mode: number): void {
    fs.chmodSync(p, mode);
  }
  mkdir(p: string, mode: number): void {
    fs.mkdirSync(p, { mode });
  }
  rmdir(p: string): void {
    fs.rmdirSync(p);
  }
  modprobe(name: string): void {
    execFileSync('modprobe', [name], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  }
  rmmod(name: string): void {
    execFileSync('modprobe', ['-r', name], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  }
}
