// Wire constants of the libqat <-> qatmgr protocol (qatmgr-protocol.md §4–§10): types, sizes, BAD texts.

export const MsgType = {
  SECTION_GET: 1,
  SECTION_PUT: 2,
  NUM_DEVICES: 3,
  DEVICE_INFO: 4,
  DEVICE_ID: 5,
  RESERVED: 6,
  INSTANCE_INFO: 7,
  INSTANCE_NAME: 8,
  VFIO_FILE: 9,
  NUM_PF_DEVS: 10,
  PF_DEV_INFO: 11,
  UNKNOWN: 998,
  BAD: 999,
} as const;

export const MSG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MsgType).map(([k, v]) => [v, k]));

export const HEADER_SIZE = 8;
/** sizeof(qatmgr_msg_req): the largest request a client may send. */
export const MAX_REQUEST = 264;
/** sizeof(qatmgr_msg_rsp). */
export const MAX_RESPONSE = 268;
export const NAME_FIELD = 256;
export const DEVICE_NAME_FIELD = 64;
export const DEVICE_GEN_FIELD = 17;

/** Exact request lengths of the fixed-size requests. */
export const REQUEST_LEN: Partial<Record<number, number>> = {
  [MsgType.NUM_DEVICES]: 8,
  [MsgType.DEVICE_INFO]: 10,
  [MsgType.DEVICE_ID]: 10,
  [MsgType.INSTANCE_INFO]: 16,
  [MsgType.INSTANCE_NAME]: 16,
  [MsgType.VFIO_FILE]: 10,
  [MsgType.NUM_PF_DEVS]: 8,
  [MsgType.PF_DEV_INFO]: 10,
};

export const RESPONSE_LEN = {
  NUM_DEVICES: 10,
  DEVICE_INFO: 128,
  INSTANCE_INFO: 40,
  PF_DEV_INFO: 36,
} as const;

/** Upstream's exact BAD texts (protocol §10.0). */
export const BadText = {
  VERSION: 'Incompatible. qatmgr received msg vX from qatlib vY\n',
  UNKNOWN_MESSAGE: 'Unknown message',
  INCONSISTENT_LENGTH: 'Inconsistent length',
  INVALID_INDEX: 'Invalid index',
  INVALID_DEVICE: 'Invalid device number',
  SECTION_ALREADY: 'Section already allocated',
  NO_SECTION: 'No section available',
  INTERNAL: 'Internal error',
  MALLOC: 'malloc failed',
  SECTION_NOT_ALLOCATED: 'Section not allocated',
  RELEASE_FAILED: 'Failed to release section',
  PFS_INFO: 'Unable to init pfs info',
  UNKNOWN_INSTANCE_TYPE: 'Unknown instance type',
} as const;

/** `inst.type` values a request may carry, and the spelling of their "Invalid … instance number" texts. */
export const INSTANCE_TYPES = [
  { type: 1, kind: 'dc', nameText: 'Invalid DC instance number', infoText: 'Invalid dc instance number' },
  { type: 2, kind: 'sym', nameText: 'Invalid SYM instance number', infoText: 'Invalid sym instance number' },
  { type: 4, kind: 'asym', nameText: 'Invalid ASYM instance number', infoText: 'Invalid asym instance number' },
  { type: 6, kind: 'cy', nameText: 'Invalid CY instance number', infoText: 'Invalid cy instance number' },
  { type: 16, kind: 'decomp', nameText: 'Invalid Decomp instance number', infoText: 'Invalid decomp instance number' },
] as const;

export type InstanceTypeKind = (typeof INSTANCE_TYPES)[number]['kind'];

/** Index into INSTANCE_TYPES for an `inst.type`, or -1. */
export function instanceTypeIndex(type: number): number {
  switch (type) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 6: return 3;
    case 16: return 4;
    default: return -1;
  }
}

/** Version as libqat forms it: (MAJOR << 8) + MINOR; 26.08 -> 0x1A08. */
export function formatVersion(v: number): string {
  return `${v >> 8}.${v & 0xff}`;
}
