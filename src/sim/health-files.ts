// The simulated health files of a PF with the kernel's names, contents and lifetimes (src/kernel/health.ts).

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import {
  DEBUGFS_UNDER_SYS, HEARTBEAT_DIR, HEARTBEAT_FILES, HB_TIMER_MIN_MS, PF_AUTO_RESET_FILE, RAS_COUNTERS, RAS_DIR, RAS_RESET_FILE,
  debugfsDirName,
} from '../kernel/health.js';

/** The simulated debugfs mount (root-only, as debugfs is mounted by default). */
export function simDebugfs(roots: Roots): string {
  return path.join(roots.sys, DEBUGFS_UNDER_SYS);
}

export function simDebugfsDir(roots: Roots, pfDriver: string, pfBdf: string): string {
  return path.join(simDebugfs(roots), debugfsDirName(pfDriver, pfBdf));
}

/** debugfs values end with "\n" and a NUL (simple_read_from_buffer of len + 1). */
export function debugfsValue(v: number | string): string {
  return `${v}\n\0`;
}

/**
 * A file a reader may hold open is rewritten in place (same inode), never replaced: a kept descriptor sees the new
 * value, as it would on sysfs.
 */
export function writeInPlace(p: string, text: string): void {
  fs.writeFileSync(p, text);
}

/** Rewrite a debugfs file in place keeping the kernel's mode (0400 files are made writable for the moment). */
export function writeDebugfsValue(p: string, v: number | string, mode = 0o400): void {
  if (fs.existsSync(p)) fs.chmodSync(p, 0o600);
  writeInPlace(p, debugfsValue(v));
  fs.chmodSync(p, mode);
}

/**
 * Remove files the way the kernel removes attributes: a reader holding one open gets ENODEV on sysfs; a plain file
 * stays readable after unlink, so it is emptied first (an empty read is how readers tell, src/platform/kept-attr.ts).
 */
export function removeFiles(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removeFiles(p);
    else if (e.isFile()) {
      fs.chmodSync(p, 0o600);
      fs.truncateSync(p, 0);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Files that exist while the driver is bound: `qat/auto_reset` (off) and the debugfs directory. */
export function writeBoundFiles(roots: Roots, pfDir: string, pfDriver: string, pfBdf: string): void {
  const debugfs = simDebugfs(roots);
  if (!fs.existsSync(debugfs)) {
    fs.mkdirSync(debugfs, { recursive: true, mode: 0o700 });
    fs.chmodSync(debugfs, 0o700);
  }
  fs.mkdirSync(simDebugfsDir(roots, pfDriver, pfBdf), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(pfDir, PF_AUTO_RESET_FILE), 'off\n');
}

/** The device started: `qat_ras/` with cleared counters and `heartbeat/` with fresh counters (adf_dev_start). */
export function writeUpFiles(roots: Roots, pfDir: string, pfDriver: string, pfBdf: string): void {
  const ras = path.join(pfDir, RAS_DIR);
  fs.mkdirSync(ras, { recursive: true });
  for (const c of RAS_COUNTERS) writeInPlace(path.join(ras, c), '0\n');
  fs.writeFileSync(path.join(ras, RAS_RESET_FILE), '');
  const hb = path.join(simDebugfsDir(roots, pfDriver, pfBdf), HEARTBEAT_DIR);
  fs.mkdirSync(hb, { recursive: true, mode: 0o700 });
  for (const f of [HEARTBEAT_FILES.status, HEARTBEAT_FILES.sent, HEARTBEAT_FILES.failed]) writeDebugfsValue(path.join(hb, f), 0);
  writeDebugfsValue(path.join(hb, HEARTBEAT_FILES.config), HB_TIMER_MIN_MS, 0o600);
}

/** The device stopped: `qat_ras/` and `heartbeat/` go (adf_dev_stop). */
export function removeUpFiles(roots: Roots, pfDir: string, pfDriver: string, pfBdf: string): void {
  removeFiles(path.join(pfDir, RAS_DIR));
  removeFiles(path.join(simDebugfsDir(roots, pfDriver, pfBdf), HEARTBEAT_DIR));
}
