// The idxd driver's sysfs rules as pure functions: which attribute store succeeds in which state, and what enabling
// or disabling a device or wq does to the configuration (drivers/dma/idxd/sysfs.c, device.c, cdev.c, dma.c,
// drivers/crypto/intel/iaa/iaa_crypto_main.c; docs/idxd.md cites each rule).

import { IDXD_LIMITS, IDXD_SCMD, WQ_DEFAULT_QUEUE_DEPTH, WQ_DISABLE_DEFAULTS, WQ_RESET_DEFAULTS, groupResetDefaults, wqTypeOfDriver, type IdxdType, type WqDriver } from './idxd.js';

export type Errno = 'EINVAL' | 'EPERM' | 'ENXIO' | 'EOPNOTSUPP' | 'EACCES' | 'ENODEV' | 'EBUSY' | 'EEXIST' | 'ENOENT';

/** What the store rules need to know about a device. */
export interface DeviceFacts {
  type: IdxdType;
  state: string;
  configurable: boolean;
  /** `version` (hex): 0x100 on the first generation. */
  version: number;
  maxGroups: number;
  maxWqs: number;
  maxEngines: number;
  maxWqSize: number;
  maxBatchSize: number;
  maxTransferSize: number;
  maxReadBuffers: number;
  /** `pasid_enabled`: user PASID (SVA), needed by user wqs and shared user wqs. */
  userPasid: boolean;
  /**
   * The kernel's own PASID (device_pasid_enabled), needed by shared kernel wqs; while it is on, a kernel wq's name
   * cannot be set. sysfs does not show it: readers and the simulator take it as off (see docs/idxd.md).
   */
  systemPasid: boolean;
}

export interface WqFacts {
  state: string;
  size: number;
  mode: string;
  type: string;
  threshold: number;
  groupId: number;
  name: string;
  /** `driver_name` text, undefined on kernels before 6.7 (no attribute: no name check). */
  driverName: string | undefined;
}

export type StoreResult = { errno: Errno } | { set: Record<string, string> };

const stripNl = (s: string): string => (s.endsWith('\n') ? s.slice(0, -1) : s);

/** kstrtoul/kstrtol base 10 (one trailing newline allowed). */
function kstrtoInt(raw: string, signed: boolean): number | undefined {
  const v = stripNl(raw);
  if (!(signed ? /^[+-]?[0-9]+$/ : /^\+?[0-9]+$/).test(v)) return undefined;
  return Number(v);
}

/** kstrtou* base 0: 0x hex, leading 0 octal, else decimal. */
function kstrtoBase0(raw: string): number | undefined {
  const v = stripNl(raw);
  if (/^\+?0[xX][0-9a-fA-F]+$/.test(v)) return parseInt(v.replace(/^\+/, ''), 16);
  if (/^\+?0[0-7]*$/.test(v)) return parseInt(v.replace(/^\+/, '') || '0', 8);
  if (/^\+?[1-9][0-9]*$/.test(v)) return Number(v);
  return undefined;
}

/** kstrtobool: y/Y/1/t/T/on true, n/N/0/f/F/off false. */
export function kstrtobool(raw: string): boolean | undefined {
  const v = stripNl(raw);
  if (/^(on)$/i.test(v)) return true;
  if (/^(off)$/i.test(v)) return false;
  if (/^[yY1tT]/.test(v)) return true;
  if (/^[nN0fF]/.test(v)) return false;
  return undefined;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** strim(): leading and trailing white space removed. */
const strim = (s: string): string => s.replace(/^\s+|\s+$/g, '');

/** Attributes with a store method, per conf device kind (others are read-only: kernfs answers EACCES). */
export const IDXD_WRITABLE = Object.freeze({
  device: new Set(['read_buffer_limit', 'token_limit', 'cmd_status', 'event_log_size']),
  group: new Set(['read_buffers_reserved', 'tokens_reserved', 'read_buffers_allowed', 'tokens_allowed', 'use_read_buffer_limit', 'use_token_limit', 'traffic_class_a', 'traffic_class_b', 'desc_progress_limit', 'batch_progress_limit']),
  engine: new Set(['group_id']),
  wq: new Set(['group_id', 'mode', 'size', 'priority', 'block_on_fault', 'threshold', 'type', 'name', 'driver_name', 'max_transfer_size', 'max_batch_size', 'ats_disable', 'prs_disable', 'enqcmds_retries', 'op_config']),
});

/** A store to a wq attribute. `claimedWqSize` is the sum of the sizes of all wqs of the device. */
export function wqStore(attr: string, raw: string, dev: DeviceFacts, wq: WqFacts, claimedWqSize: number): StoreResult {
  const disabled = wq.state === 'disabled';
  switch (attr) {
    case 'group_id': {
      const id = kstrtoInt(raw, true);
      if (id === undefined) return { errno: 'EINVAL' };
      if (!dev.configurable || !disabled) return { errno: 'EPERM' };
      if (id > dev.maxGroups - 1 || id < -1) return { errno: 'EINVAL' };
      return { set: { group_id: String(id) } };
    }
    case 'mode': {
      if (!dev.configurable || !disabled) return { errno: 'EPERM' };
      const v = stripNl(raw);
      if (v === 'dedicated') return { set: { mode: 'dedicated', threshold: '0' } };
      if (v === 'shared') return { set: { mode: 'shared' } };
      return { errno: 'EINVAL' };
    }
    case 'size': {
      const n = kstrtoInt(raw, false);
      if (n === undefined) return { errno: 'EINVAL' };
      if (!dev.configurable || dev.state === 'enabled') return { errno: 'EPERM' };
      if (n + claimedWqSize - wq.size > dev.maxWqSize) return { errno: 'EINVAL' };
      return { set: { size: String(n) } };
    }
    case 'priority': {
      const n = kstrtoInt(raw, false);
      if (n === undefined) return { errno: 'EINVAL' };
      if (!dev.configurable || !disabled) return { errno: 'EPERM' };
      if (n > IDXD_LIMITS.maxPriority) return { errno: 'EINVAL' };
      return { set: { priority: String(n) } };
    }
    case 'block_on_fault': {
      if (!dev.configurable) return { errno: 'EPERM' };
      if (!disabled) return { errno: 'ENXIO' };
      const b = kstrtobool(raw);
      if (b === undefined) return { errno: 'EINVAL' };
      return { set: { block_on_fault: b ? '1' : '0' } };
    }
    case 'threshold': {
      const n = kstrtoBase0(raw);
      if (n === undefined) return { errno: 'EINVAL' };
      if (n > wq.size || n <= 0) return { errno: 'EINVAL' };
      if (!dev.configurable) return { errno: 'EPERM' };
      if (!disabled) return { errno: 'ENXIO' };
      if (wq.mode === 'dedicated') return { errno: 'EINVAL' };
      return { set: { threshold: String(n) } };
    }
    case 'type': {
      if (!disabled) return { errno: 'EPERM' };
      const v = stripNl(raw);
      if (v !== 'none' && v !== 'kernel' && v !== 'user') return { errno: 'EINVAL' };
      // a change of type clears the name
      return { set: v !== wq.type ? { type: v, name: '' } : { type: v } };
    }
    case 'name': {
      if (!disabled) return { errno: 'EPERM' };
      if (raw.length > IDXD_LIMITS.wqNameMax || raw.length === 0) return { errno: 'EINVAL' };
      if (wq.type === 'kernel' && dev.systemPasid) return { errno: 'EOPNOTSUPP' };
      return { set: { name: strim(raw) } };
    }
    case 'driver_name': {
      if (!disabled) return { errno: 'EPERM' };
      if (raw.length > IDXD_LIMITS.driverNameMax || raw.length === 0) return { errno: 'EINVAL' };
      return { set: { driver_name: strim(raw) } };
    }
    case 'max_transfer_size':
    case 'max_batch_size': {
      if (!dev.configurable || !disabled) return { errno: 'EPERM' };
      const n = kstrtoBase0(raw);
      if (n === undefined || n === 0) return { errno: 'EINVAL' };
      const v = roundupPow2(n);
      if (v > (attr === 'max_transfer_size' ? dev.maxTransferSize : dev.maxBatchSize)) return { errno: 'EINVAL' };
      return { set: { [attr]: String(v) } };
    }
    case 'ats_disable': {
      if (!disabled || !dev.configurable) return { errno: 'EPERM' };
      const b = kstrtobool(raw);
      if (b === undefined) return { errno: 'EINVAL' };
      return { set: { ats_disable: b ? '1' : '0' } };
    }
    case 'enqcmds_retries': {
      if (wq.mode === 'dedicated') return { errno: 'EOPNOTSUPP' };
      const n = kstrtoInt(raw, false);
      if (n === undefined) return { errno: 'EINVAL' };
      return { set: { enqcmds_retries: String(Math.min(n, IDXD_LIMITS.enqcmdsMaxRetries)) } };
    }
    default:
      return { errno: 'EACCES' };
  }
}

/** A store to an engine's group_id (no device state check in sysfs.c). */
export function engineStore(attr: string, raw: string, dev: DeviceFacts): StoreResult {
  if (attr !== 'group_id') return { errno: 'EACCES' };
  const id = kstrtoInt(raw, true);
  if (id === undefined) return { errno: 'EINVAL' };
  if (!dev.configurable) return { errno: 'EPERM' };
  if (id > dev.maxGroups - 1 || id < -1) return { errno: 'EINVAL' };
  return { set: { group_id: String(id) } };
}

export interface GroupFacts {
  numEngines: number;
  readBuffersReserved: number;
  /** The device's unreserved read buffers (max_read_buffers minus every group's reservation). */
  freeReadBuffers: number;
  /** The device's read_buffer_limit. */
  readBufferLimit: number;
}

const GROUP_ALIAS: Record<string, string> = { tokens_reserved: 'read_buffers_reserved', tokens_allowed: 'read_buffers_allowed', use_token_limit: 'use_read_buffer_limit' };

/** A store to a group attribute. */
export function groupStore(attrIn: string, raw: string, dev: DeviceFacts, g: GroupFacts): StoreResult {
  const attr = GROUP_ALIAS[attrIn] ?? attrIn;
  const enabled = dev.state === 'enabled';
  switch (attr) {
    case 'read_buffers_reserved':
    case 'read_buffers_allowed':
    case 'use_read_buffer_limit': {
      const n = kstrtoInt(raw, false);
      if (n === undefined) return { errno: 'EINVAL' };
      if (dev.type === 'iax') return { errno: 'EOPNOTSUPP' };
      if (!dev.configurable || enabled) return { errno: 'EPERM' };
      if (attr === 'use_read_buffer_limit') {
        if (g.readBufferLimit === 0) return { errno: 'EPERM' };
        return { set: { use_read_buffer_limit: n ? '1' : '0' } };
      }
      if (attr === 'read_buffers_reserved') {
        if (n > dev.maxReadBuffers || n > g.freeReadBuffers + g.readBuffersReserved) return { errno: 'EINVAL' };
        return { set: { read_buffers_reserved: String(n) } };
      }
      if (n < 4 * g.numEngines || n > g.readBuffersReserved + g.freeReadBuffers) return { errno: 'EINVAL' };
      return { set: { read_buffers_allowed: String(n) } };
    }
    case 'traffic_class_a':
    case 'traffic_class_b': {
      const n = kstrtoInt(raw, true);
      if (n === undefined) return { errno: 'EINVAL' };
      if (!dev.configurable || enabled) return { errno: 'EPERM' };
      // hardware versions up to 2 keep TC-A/TC-B at 1 unless the tc_override module parameter is set
      if (dev.version <= 0x200) return { errno: 'EPERM' };
      if (n < 0 || n > IDXD_LIMITS.maxTrafficClass) return { errno: 'EINVAL' };
      return { set: { [attr]: String(n) } };
    }
    case 'desc_progress_limit':
    case 'batch_progress_limit': {
      const n = kstrtoInt(raw, true);
      if (n === undefined || (n & ~3) !== 0) return { errno: 'EINVAL' };
      return { set: { [attr]: String(n) } };
    }
    default:
      return { errno: 'EACCES' };
  }
}

/** A store to a device attribute. */
export function deviceStore(attrIn: string, raw: string, dev: DeviceFacts): StoreResult {
  const attr = attrIn === 'token_limit' ? 'read_buffer_limit' : attrIn;
  if (attr === 'cmd_status') return { set: { cmd_status: '0' } };
  if (attr === 'read_buffer_limit') {
    const n = kstrtoInt(raw, false);
    if (n === undefined) return { errno: 'EINVAL' };
    if (dev.state === 'enabled' || !dev.configurable) return { errno: 'EPERM' };
    if (n > dev.maxReadBuffers) return { errno: 'EINVAL' };
    return { set: { read_buffer_limit: String(n) } };
  }
  return { errno: 'EACCES' };
}

/** Whether a shared wq of this (eventual) type can work: a PASID of the matching kind (idxd.h wq_shared_supported). */
export function sharedSupported(dev: DeviceFacts, type: string): boolean {
  return (type === 'kernel' && dev.systemPasid) || (type === 'user' && dev.userPasid);
}

export type EnableResult = { errno: Errno; cmdStatus?: keyof typeof IDXD_SCMD } | { ok: true; sizes: Record<number, number> };

/**
 * The device configuration the driver writes when a device or wq is enabled (device.c idxd_device_config): every
 * grouped shared wq must be supportable, at least one wq and one engine must be grouped; a grouped wq of size 0
 * that has a type gets WQ_DEFAULT_QUEUE_DEPTH. `wqs` is indexed by wq id.
 */
export function deviceConfigCheck(dev: DeviceFacts, wqs: WqFacts[], engineGroups: number[]): EnableResult {
  if (!dev.configurable) return { ok: true, sizes: {} };
  const grouped = wqs.map((w, id) => ({ w, id })).filter(({ w }) => w.groupId >= 0);
  for (const { w } of grouped) {
    if (w.mode === 'shared' && !sharedSupported(dev, w.type)) return { errno: 'EINVAL', cmdStatus: 'WQ_NO_SWQ_SUPPORT' };
  }
  if (grouped.length === 0) return { errno: 'EINVAL', cmdStatus: 'WQ_NONE_CONFIGURED' };
  if (!engineGroups.some((g) => g >= 0)) return { errno: 'EINVAL' };
  const sizes: Record<number, number> = {};
  for (const { w, id } of grouped) if (w.size === 0 && w.type !== 'none') sizes[id] = WQ_DEFAULT_QUEUE_DEPTH;
  return { ok: true, sizes };
}

/** Binding the device to the `idxd` driver (device.c idxd_device_drv_probe): disabled state, then the config. */
export function deviceEnableCheck(dev: DeviceFacts, wqs: WqFacts[], engineGroups: number[]): EnableResult {
  if (dev.state !== 'disabled') return { errno: 'ENXIO', cmdStatus: 'DEV_ENABLED' };
  const r = deviceConfigCheck(dev, wqs, engineGroups);
  return 'errno' in r ? { errno: 'ENXIO', cmdStatus: r.cmdStatus } : r;
}

export interface WqBindFacts {
  /** Another wq of any IAA device is bound to `crypto` already. */
  cryptoActive: boolean;
  /** deflate-iaa is registered with the crypto API (it stays until iaa_crypto is unloaded). */
  cryptoRegistered: boolean;
}

export type WqBindResult =
  | { errno: Errno; cmdStatus?: keyof typeof IDXD_SCMD; cleanup: boolean }
  | { ok: true; type: 'kernel' | 'user'; sizes: Record<number, number>; registers: boolean };

/**
 * Binding wq `id` to a wq driver (cdev.c idxd_user_drv_probe, dma.c idxd_dmaengine_drv_probe, iaa_crypto_probe,
 * device.c drv_enable_wq). On failure the wq's type is back to none; `cleanup` = the wq was enabled and torn down
 * again (its disable defaults apply: iaa_crypto's registration failure).
 */
export function wqBindCheck(drv: WqDriver, dev: DeviceFacts, wqs: WqFacts[], id: number, engineGroups: number[], f: WqBindFacts): WqBindResult {
  const wq = wqs[id];
  if (dev.state !== 'enabled') return { errno: 'ENXIO', cleanup: false };
  if (drv === 'user' && !dev.userPasid) return { errno: 'EOPNOTSUPP', cmdStatus: 'WQ_USER_NO_IOMMU', cleanup: false };
  if (drv === 'crypto' && dev.type !== 'iax') return { errno: 'ENODEV', cleanup: false };
  if (wq.driverName !== undefined && !wq.driverName.startsWith(drv)) return { errno: 'ENODEV', cmdStatus: 'WQ_NO_DRV_NAME', cleanup: false };
  const type = wqTypeOfDriver(drv);
  const fail = (cmdStatus: keyof typeof IDXD_SCMD): WqBindResult => ({ errno: 'ENXIO', cmdStatus, cleanup: false });
  if (wq.state !== 'disabled') return { errno: 'EBUSY', cmdStatus: 'WQ_ENABLED', cleanup: false };
  if (wq.groupId < 0) return fail('WQ_NO_GRP');
  if (wq.name === '') return fail('WQ_NO_NAME');
  if (wq.mode === 'shared') {
    if (!sharedSupported(dev, type)) return fail('WQ_NO_SVM');
    if (wq.threshold === 0) return fail('WQ_NO_THRESH');
  }
  const withType = wqs.map((w, i) => (i === id ? { ...w, type } : w));
  const cfg = deviceConfigCheck(dev, withType, engineGroups);
  if ('errno' in cfg) return { errno: drv === 'crypto' ? 'ENXIO' : cfg.errno, cmdStatus: cfg.cmdStatus, cleanup: false };
  const registers = drv === 'crypto' && !f.cryptoActive;
  // iaa_crypto registers deflate-iaa on its first wq and unregisters it only at module exit: a second
  // registration (all crypto wqs unbound, then one bound again without reloading iaa_crypto) fails
  if (registers && f.cryptoRegistered) return { errno: 'EEXIST', cleanup: true };
  return { ok: true, type, sizes: cfg.sizes, registers };
}

/** What unbinding a wq from its driver resets (device.c drv_disable_wq -> idxd_wq_reset -> idxd_wq_disable_cleanup). */
export function wqDisableUpdates(): Record<string, string> {
  return { ...WQ_DISABLE_DEFAULTS, state: 'disabled', clients: '0' };
}

/** What unbinding a configurable device from `idxd` resets for each wq, group and engine (idxd_device_clear_state). */
export function deviceResetUpdates(version: number): { wq: Record<string, string>; group: Record<string, string>; engine: Record<string, string> } {
  return { wq: { ...WQ_RESET_DEFAULTS, state: 'disabled', clients: '0' }, group: groupResetDefaults(version), engine: { group_id: '-1' } };
}

/** iaa_crypto's driver attributes: writable only while no wq is bound to it (EBUSY), values as the driver parses them. */
export function cryptoAttrStore(attr: string, raw: string, cryptoActive: boolean): StoreResult {
  if (attr !== 'sync_mode' && attr !== 'verify_compress') return { errno: 'EACCES' };
  if (cryptoActive) return { errno: 'EBUSY' };
  if (attr === 'verify_compress') {
    const b = kstrtobool(raw);
    return b === undefined ? { errno: 'EINVAL' } : { set: { verify_compress: b ? '1' : '0' } };
  }
  const v = stripNl(raw);
  return v === 'sync' || v === 'async' || v === 'async_irq' ? { set: { sync_mode: v } } : { errno: 'EINVAL' };
}
