// What the in-tree QAT driver shows about a device's health: file names, their values, when they exist (pure rules).
//
// From drivers/crypto/intel/qat/qat_common (torvalds/linux), in our words:
// - adf_sysfs.c: PF `qat/state` reads "up" while the device is started, else "down" (also while it resets);
//   `qat/auto_reset` (kernel 6.9+, 4xxx) reads "on"/"off" and takes anything kstrtobool takes.
// - adf_sysfs_ras_counters.c: `qat_ras/errors_correctable|errors_nonfatal|errors_fatal` are decimal counters; the
//   group is added when the device starts (counters cleared) and removed when it stops; `reset_error_counters`
//   takes exactly two bytes starting with '1' ("1\n") and clears them.
// - adf_dbgfs.c: the debugfs directory `qat_<class>_<PF BDF>` lives as long as the driver is bound; its
//   `heartbeat/` files only while the device is up (PFs only).
// - adf_heartbeat_dbgfs.c: `heartbeat/status` (0400) answers "0" (alive) or "-1", followed by "\n" and a NUL;
//   `queries_sent`, `queries_failed` (0400) are "%u\n" + NUL; `config` (0600) the timer in ms.
// - adf_heartbeat.c: every read of `status` is a check. A check closer than the heartbeat timer to the previous
//   one is refused (-1, nothing counted); a device not started or restarting reads -1, nothing counted; otherwise
//   `queries_sent` is incremented and, when the firmware has not answered for 3 checks in a row, the check fails:
//   `queries_failed` is incremented and a fatal error is raised (at most every 5 s), which resets the device when
//   `auto_reset` is on (adf_aer.c). The timer is 200 ms on devices with the internal timer (4xxx), else 500 ms.
// - adf_init.c / adf_aer.c / adf_sriov.c: stopping a device (state down, a reset) disables SR-IOV: its VFs are
//   removed; a reset re-enables them once the device is up again; `state` up alone does not.

/** Files under the PF's sysfs directory. */
export const PF_STATE_FILE = 'qat/state';
export const PF_AUTO_RESET_FILE = 'qat/auto_reset';
export const RAS_DIR = 'qat_ras';
export const RAS_COUNTERS = ['errors_correctable', 'errors_nonfatal', 'errors_fatal'] as const;
export type RasCounter = (typeof RAS_COUNTERS)[number];
export const RAS_RESET_FILE = 'reset_error_counters';

/** Where debugfs is mounted, relative to the sysfs mount (`/sys/kernel/debug`). */
export const DEBUGFS_UNDER_SYS = 'kernel/debug';

/** Files under the PF's debugfs directory. */
export const HEARTBEAT_DIR = 'heartbeat';
export const HEARTBEAT_FILES = { status: 'status', sent: 'queries_sent', failed: 'queries_failed', config: 'config' } as const;

/** Shortest heartbeat timer (and the fixed one on devices with the internal timer), ms. */
export const HB_TIMER_MIN_MS = 200;
/** Heartbeat timer of devices without the internal timer, ms. */
export const HB_TIMER_DEFAULT_MS = 500;
/** Checks in a row without an answer before the kernel reports a failure. */
export const HB_COUNT_THRESHOLD = 3;
/** A failed check raises a fatal error at most this often, ms. */
export const HB_RESET_MS = 5000;

/** `qat_<class>_<dddd:bb:dd.f>`: the debugfs directory of a PF (class = the PF driver's device class name). */
export function debugfsDirName(deviceClass: string, pfBdf: string): string {
  return `qat_${deviceClass}_${pfBdf}`;
}

/** Text of a sysfs/debugfs value without the trailing newline and the NUL debugfs adds. */
function value(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '\0' || text[end - 1] === '\n')) end--;
  return text.slice(0, end);
}

export function parseState(text: string): 'up' | 'down' | undefined {
  const v = value(text);
  return v === 'up' || v === 'down' ? v : undefined;
}

/** `qat/auto_reset` as the kernel prints it ("on"/"off"). */
export function parseOnOff(text: string): boolean | undefined {
  const v = value(text);
  return v === 'on' ? true : v === 'off' ? false : undefined;
}

/** A decimal counter ("%lu\n" or "%u\n" + NUL). */
export function parseCounter(text: string): number | undefined {
  const v = value(text);
  return /^[0-9]{1,20}$/.test(v) ? Number(v) : undefined;
}

export type HeartbeatStatus = 'alive' | 'not-alive';

export function parseHeartbeatStatus(text: string): HeartbeatStatus | undefined {
  const v = value(text);
  return v === '0' ? 'alive' : v === '-1' ? 'not-alive' : undefined;
}

export interface HeartbeatCounters {
  sent: number;
  failed: number;
}

/**
 * What one read of `status` says, given the counters read with it and at the previous read:
 * - `alive`: the firmware answers;
 * - `failed`: -1 and the kernel counted a failed check (`queries_failed` rose);
 * - `unchecked`: -1 with no failure counted: polled too soon after another reader (a check by someone else may
 *   have raised `queries_sent`), the device is not started or is restarting (qat/state tells which), or the counters
 *   started again from 0 with the device. Not a verdict on the firmware: keep the previous one.
 * Without counters (they cannot be read) a -1 counts as `failed`.
 */
export function heartbeatVerdict(status: HeartbeatStatus, cur: HeartbeatCounters | undefined, prev: HeartbeatCounters | undefined): 'alive' | 'failed' | 'unchecked' {
  if (status === 'alive') return 'alive';
  if (!cur) return 'failed';
  if (!prev) return cur.failed > 0 ? 'failed' : 'unchecked';
  return cur.failed > prev.failed ? 'failed' : 'unchecked';
}

/** kstrtobool as `auto_reset` and `pm_idle_enabled` stores use it: the first character decides ('o' needs a second). */
export function kstrtobool(text: string): boolean | undefined {
  const c = text[0]?.toLowerCase();
  if (c === 'y' || c === 't' || c === '1') return true;
  if (c === 'n' || c === 'f' || c === '0') return false;
  if (c === 'o') {
    const d = text[1]?.toLowerCase();
    if (d === 'n') return true;
    if (d === 'f') return false;
  }
  return undefined;
}

/** `qat_ras/reset_error_counters` store: two bytes, the first '1' (else EINVAL). */
export function rasResetAccepted(data: string): boolean {
  return data.length === 2 && data[0] === '1';
}
