// Byte offsets of every field on the wire (protocol §7–§8), read by both the encoder and the decoder.

export const Hdr = { len: 0, version: 2, type: 4, filler: 6 } as const;

/** Request union at offset 8. */
export const Req = {
  name: 8,
  deviceNum: 8,
  instType: 8,
  instNum: 12,
  instDevice: 14,
} as const;

/** DEVICE_INFO response (`device_info`, 120 bytes at offset 8). */
export const DevInfo = {
  deviceNum: 8,
  deviceType: 10,
  pciId: 12,
  capabilityMask: 16,
  extCaps: 20,
  fwCompAlgos: 24,
  fwCksumAlgos: 26,
  fwDeflateCaps: 28,
  fwLz4Caps: 32,
  fwLz4sCaps: 34,
  fwZstdCaps: 36,
  fwIsValid: 38,
  maxBanks: 40,
  maxRingsPerBank: 42,
  arbMask: 44,
  ringMode: 46,
  services: 48,
  pkgId: 50,
  nodeId: 52,
  numCy: 54,
  numSym: 56,
  numAsym: 58,
  numDc: 60,
  numDecomp: 62,
  deviceName: 64,
} as const;

/** `ring_info` (14 bytes) field offsets relative to its start. */
export const Ring = { accelId: 0, bank: 2, isPolled: 4, core: 6, concurrent: 8, ringTx: 10, ringRx: 12, size: 14 } as const;

/** INSTANCE_INFO response: sym/dc/decomp view at 8, asym view at 22, CY is_polled at 36. */
export const InstInfo = { first: 8, asym: 22, isPolled: 36 } as const;

/** VFIO_FILE response. */
export const Vfio = { fd: 8, name: 10 } as const;

/** PF_DEV_INFO response (`icp_accel_pf_info_t` at 8). */
export const PfInfoOff = { pkgId: 8, domain: 12, bdf: 14, deviceGen: 16 } as const;

/** NUM_DEVICES / NUM_PF_DEVS response. */
export const NumOff = { count: 8 } as const;
