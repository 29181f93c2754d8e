// What the in-tree idxd driver (Intel DSA and IAA) and iaa_crypto are: PCI ids, names, bus drivers, limits, defaults.
//
// Sources (torvalds/linux): drivers/dma/idxd/{registers.h,idxd.h,sysfs.c,device.c,cdev.c,dma.c,compat.c,bus.c},
// include/uapi/linux/idxd.h, drivers/crypto/intel/iaa/iaa_crypto_main.c, Documentation/ABI/stable/sysfs-driver-dma-idxd.
// docs/idxd.md lists each rule with its source and what could not be confirmed.

/** Device types on the dsa bus: `dsa<N>` and `iax<N>` (upstream still names IAA devices "iax"). */
export type IdxdType = 'dsa' | 'iax';

/** PCI device ids (registers.h / pci_ids.h: PCI_DEVICE_ID_INTEL_DSA_SPR0, PCI_DEVICE_ID_INTEL_IAX_SPR0). */
export const IDXD_PCI_IDS: Readonly<Record<IdxdType, number>> = Object.freeze({ dsa: 0x0b25, iax: 0x0cfe });

export function idxdTypeByPciId(id: number): IdxdType | undefined {
  if (id === IDXD_PCI_IDS.dsa) return 'dsa';
  if (id === IDXD_PCI_IDS.iax) return 'iax';
  return undefined;
}

/** Human name of a device type. */
export function idxdProduct(t: IdxdType): string {
  return t === 'dsa' ? 'DSA' : 'IAA';
}

/** Kernel modules: `idxd` (PCI driver, the `idxd` device driver and the `user`/`dmaengine` wq drivers), `iaa_crypto`. */
export const IDXD_MODULE = 'idxd';
export const IAA_CRYPTO_MODULE = 'iaa_crypto';
/** The PCI driver name of both DSA and IAA functions. */
export const IDXD_PCI_DRIVER = 'idxd';

/** Drivers on the dsa bus (`/sys/bus/dsa/drivers/<name>`). */
export const DSA_BUS_DRIVERS = {
  /** binds `dsaN`/`iaxN`: enabling the device (device.c idxd_drv). */
  device: 'idxd',
  /** kernel wqs as dmaengine channels (dma.c). */
  dmaengine: 'dmaengine',
  /** user wqs with a character device `/dev/<type>/wqN.M` (cdev.c). */
  user: 'user',
  /** IAA kernel wqs for the deflate-iaa algorithm (iaa_crypto.h IDXD_SUBDRIVER_NAME). */
  crypto: 'crypto',
  /** the legacy compat driver: its bind picks idxd/dmaengine/user by device and wq type (compat.c). */
  compat: 'dsa',
} as const;

export type WqDriver = 'dmaengine' | 'user' | 'crypto';
export const WQ_DRIVERS: readonly WqDriver[] = ['dmaengine', 'user', 'crypto'];

/** Module that registers a dsa-bus driver. */
export function moduleOfBusDriver(drv: string): string | undefined {
  if (drv === 'crypto') return IAA_CRYPTO_MODULE;
  if (drv === 'idxd' || drv === 'dmaengine' || drv === 'user' || drv === 'dsa') return IDXD_MODULE;
  return undefined;
}

/** The wq type a driver gives a wq when it binds it (cdev.c sets user, dma.c and iaa_crypto set kernel). */
export function wqTypeOfDriver(drv: WqDriver): 'kernel' | 'user' {
  return drv === 'user' ? 'user' : 'kernel';
}

/** The driver a wq of this type is bound to when its config names none. */
export function defaultWqDriver(type: string): WqDriver | undefined {
  if (type === 'user') return 'user';
  if (type === 'kernel') return 'dmaengine';
  return undefined;
}

/** Limits from idxd.h, registers.h, sysfs.c. */
export const IDXD_LIMITS = Object.freeze({
  /** IDXD_MAX_PRIORITY (idxd.h): wq priority 0..15. */
  maxPriority: 15,
  /** WQ_NAME_SIZE: a wq name is 1..1024 characters. */
  wqNameMax: 1024,
  /** DRIVER_NAME_SIZE: driver_name is 1..128 characters. */
  driverNameMax: 128,
  /** group traffic_class_a/b: 0..7. */
  maxTrafficClass: 7,
  /** IDXD_ENQCMDS_MAX_RETRIES. */
  enqcmdsMaxRetries: 64,
  /** IDXD_MAX_OPCAP_BITS. */
  opcapBits: 256,
});

/** Values a wq returns to when it is disabled (device.c idxd_wq_disable_cleanup); size and group stay. */
export const WQ_DISABLE_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  type: 'none',
  mode: 'shared',
  threshold: '0',
  priority: '0',
  block_on_fault: '0',
  ats_disable: '0',
  name: '',
  /** WQ_DEFAULT_MAX_XFER = SZ_2M. */
  max_transfer_size: '2097152',
  /** WQ_DEFAULT_MAX_BATCH. */
  max_batch_size: '32',
  /** IDXD_ENQCMDS_RETRIES. */
  enqcmds_retries: '32',
});

/** What a device reset adds for every wq (idxd_wq_device_reset_cleanup): no size, no group. */
export const WQ_RESET_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({ ...WQ_DISABLE_DEFAULTS, size: '0', group_id: '-1' });

/** WQ_DEFAULT_QUEUE_DEPTH: a grouped wq of size 0 with a type gets this size when the device config is written. */
export const WQ_DEFAULT_QUEUE_DEPTH = 16;

/** Group values after a device reset (device.c idxd_groups_clear_state; hw version <= 2 without tc_override: 1/1). */
export function groupResetDefaults(version: number): Record<string, string> {
  const tc = version <= 0x200 ? '1' : '-1';
  return {
    read_buffers_reserved: '0', use_read_buffer_limit: '0', read_buffers_allowed: '0',
    traffic_class_a: tc, traffic_class_b: tc, desc_progress_limit: '0', batch_progress_limit: '0',
  };
}

/** The IAA crypto driver's attributes (`/sys/bus/dsa/drivers/crypto/`), their values and defaults. */
export const IAA_SYNC_MODES = ['sync', 'async', 'async_irq'] as const;
export type IaaSyncMode = (typeof IAA_SYNC_MODES)[number];
export const IAA_DEFAULTS = Object.freeze({ sync_mode: 'sync' as IaaSyncMode, verify_compress: '1' });
/** The algorithm iaa_crypto registers ('fixed' mode, RFC 1951 deflate), what zswap's compressor is set to. */
export const IAA_ALGORITHM = 'deflate-iaa';

/** The software error codes the driver leaves in `<dev>/cmd_status` (uapi idxd.h enum idxd_scmd_stat). */
export const IDXD_SCMD: Readonly<Record<string, { code: number; text: string }>> = Object.freeze({
  DEV_ENABLED: { code: 0x80000010, text: 'the device was already enabled' },
  DEV_NOT_ENABLED: { code: 0x80000020, text: 'the device is not enabled (enable the device before its wqs)' },
  WQ_ENABLED: { code: 0x80000021, text: 'the wq is already enabled' },
  DEV_DMA_ERR: { code: 0x80020000, text: 'dmaengine registration failed' },
  WQ_NO_GRP: { code: 0x80030000, text: 'the wq is in no group (group_id)' },
  WQ_NO_NAME: { code: 0x80040000, text: 'the wq has no name' },
  WQ_NO_SVM: { code: 0x80050000, text: 'a shared wq needs PASID/SVA (IOMMU scalable mode); use a dedicated wq' },
  WQ_NO_THRESH: { code: 0x80060000, text: 'a shared wq needs a threshold > 0' },
  WQ_PORTAL_ERR: { code: 0x80070000, text: 'mapping the wq portal failed' },
  WQ_RES_ALLOC_ERR: { code: 0x80080000, text: 'allocating wq resources failed' },
  PERCPU_ERR: { code: 0x80090000, text: 'percpu setup failed' },
  DMA_CHAN_ERR: { code: 0x800a0000, text: 'dma channel registration failed' },
  CDEV_ERR: { code: 0x800b0000, text: 'creating the character device failed' },
  WQ_NO_SWQ_SUPPORT: { code: 0x800c0000, text: 'the device does not support shared wqs' },
  WQ_NONE_CONFIGURED: { code: 0x800d0000, text: 'no wq of the device is in a group' },
  WQ_NO_SIZE: { code: 0x800e0000, text: 'a grouped wq has size 0' },
  WQ_NO_PRIV: { code: 0x800f0000, text: 'a dedicated kernel wq needs the PASID privileged mode' },
  WQ_IRQ_ERR: { code: 0x80100000, text: 'wq interrupt setup failed' },
  WQ_USER_NO_IOMMU: { code: 0x80110000, text: 'user wqs need SVA: boot with intel_iommu=on,sm_on' },
  DEV_EVL_ERR: { code: 0x80120000, text: 'event log setup failed' },
  WQ_NO_DRV_NAME: { code: 0x80200000, text: "the wq's driver_name does not name the driver it was bound to" },
});

/** Text for a `cmd_status` value (`0x80200000`), or undefined for 0 / an unknown hardware status. */
export function describeCmdStatus(text: string | undefined): string | undefined {
  const v = text === undefined ? NaN : Number(text.trim());
  if (!Number.isFinite(v) || v === 0) return undefined;
  const known = Object.entries(IDXD_SCMD).find(([, s]) => s.code === v);
  return known ? `${known[0]} (${known[1].text})` : `hardware status ${text!.trim()}`;
}

/** `iax1` -> {type, id}; `wq1.0` -> wq 0 of device 1. */
export function parseIdxdName(name: string): { kind: 'device'; type: IdxdType; id: number } | { kind: 'wq' | 'engine' | 'group'; dev: number; id: number } | undefined {
  let m = /^(dsa|iax)([0-9]+)$/.exec(name);
  if (m) return { kind: 'device', type: m[1] as IdxdType, id: Number(m[2]) };
  m = /^(wq|engine|group)([0-9]+)\.([0-9]+)$/.exec(name);
  if (m) return { kind: m[1] as 'wq' | 'engine' | 'group', dev: Number(m[2]), id: Number(m[3]) };
  return undefined;
}
