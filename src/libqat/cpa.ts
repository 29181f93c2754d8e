// QAT API constants we use (values from the public qatlib 26.08 headers) and readable names for status codes.

export const CpaStatus = {
  SUCCESS: 0,
  FAIL: -1,
  RETRY: -2,
  RESOURCE: -3,
  INVALID_PARAM: -4,
  FATAL: -5,
  UNSUPPORTED: -6,
  RESTARTING: -7,
} as const;

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CpaStatus).map(([k, v]) => [v, `CPA_STATUS_${k}`]),
);

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `CPA status ${status}`;
}

/** CpaDcReqStatus values worth naming in messages. */
const DC_REQ_NAMES: Record<number, string> = {
  0: 'CPA_DC_OK',
  [-1]: 'CPA_DC_INVALID_BLOCK_TYPE',
  [-2]: 'CPA_DC_BAD_STORED_BLOCK_LEN',
  [-9]: 'CPA_DC_INVALID_CODE',
  [-10]: 'CPA_DC_INVALID_DIST',
  [-11]: 'CPA_DC_OVERFLOW',
  [-12]: 'CPA_DC_SOFTERR',
  [-13]: 'CPA_DC_FATALERR',
  [-15]: 'CPA_DC_INCOMPLETE_FILE_ERR',
};

export function dcReqStatusName(status: number): string {
  return DC_REQ_NAMES[status] ?? `CpaDcReqStatus ${status}`;
}

export const Dc = {
  FLUSH_FINAL: 1,
  DEFLATE: 3,
  HT_STATIC: 0,
  HT_FULL_DYNAMIC: 2,
  DIR_COMBINED: 2,
  STATELESS: 1,
  CHECKSUM_NONE: 0,
  CHECKSUM_CRC32: 1,
  CHECKSUM_ADLER32: 2,
  REQ_OK: 0,
  REQ_OVERFLOW: -11,
} as const;

export const Sym = {
  PRIORITY_NORMAL: 1,
  OP_CIPHER: 1,
  OP_HASH: 2,
  CIPHER_AES_ECB: 3,
  CIPHER_AES_CBC: 4,
  CIPHER_AES_CTR: 5,
  DIRECTION_ENCRYPT: 1,
  DIRECTION_DECRYPT: 2,
  HASH_MODE_PLAIN: 1,
  HASH_MODE_AUTH: 2,
  HASH_SHA1: 2,
  HASH_SHA224: 3,
  HASH_SHA256: 4,
  HASH_SHA384: 5,
  HASH_SHA512: 6,
  PACKET_TYPE_FULL: 1,
} as const;

export const ServiceType = { CRYPTO: 0, DATA_COMPRESSION: 1 } as const;

/** A raw deflate stream holding nothing (one final fixed-Huffman block): QAT refuses 0-byte sources. */
export const EMPTY_DEFLATE = Uint8Array.of(0x03, 0x00);
