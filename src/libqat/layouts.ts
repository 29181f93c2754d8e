// The QAT API structs as koffi types (layouts of qatlib 26.08's public headers, x86-64) and their byte offsets.

import koffi from 'koffi';

const bool = 'int32_t'; // CpaBoolean is an enum: 4 bytes
const u32 = 'uint32_t';
const ptr = 'void *';

export const CpaFlatBuffer = koffi.struct('CpaFlatBuffer', { dataLenInBytes: u32, pData: ptr });
export const CpaBufferList = koffi.struct('CpaBufferList', {
  numBuffers: u32,
  pBuffers: ptr,
  pUserData: ptr,
  pPrivateMetaData: ptr,
});

export const CpaPhysicalInstanceId = koffi.struct('CpaPhysicalInstanceId', {
  packageId: 'uint16_t',
  acceleratorId: 'uint16_t',
  executionEngineId: 'uint16_t',
  busAddress: 'uint16_t',
  kptAcHandle: u32,
});

export const CpaInstanceInfo2 = koffi.struct('CpaInstanceInfo2', {
  accelerationServiceType: u32,
  vendorName: koffi.array('char', 64),
  partName: koffi.array('char', 64),
  swVersion: koffi.array('char', 64),
  instName: koffi.array('char', 64),
  instID: koffi.array('char', 128),
  physInstId: CpaPhysicalInstanceId,
  coreAffinity: koffi.array(u32, 128, 'Array'),
  nodeAffinity: u32,
  operState: u32,
  requiresPhysicallyContiguousMemory: bool,
  isPolled: bool,
  isOffloaded: bool,
});

export const CpaDcInstanceCapabilities = koffi.struct('CpaDcInstanceCapabilities', {
  statefulLZSCompression: bool, statefulLZSDecompression: bool, statelessLZSCompression: bool,
  statelessLZSDecompression: bool, statefulLZSSCompression: bool, statefulLZSSDecompression: bool,
  statelessLZSSCompression: bool, statelessLZSSDecompression: bool, statefulELZSCompression: bool,
  statefulELZSDecompression: bool, statelessELZSCompression: bool, statelessELZSDecompression: bool,
  statefulDeflateCompression: bool, statefulDeflateDecompression: bool, statelessDeflateCompression: bool,
  statelessDeflateDecompression: bool, statelessLZ4Compression: bool, statelessLZ4Decompression: bool,
  statefulLZ4Decompression: bool, statelessLZ4SCompression: bool, checksumCRC32: bool, checksumAdler32: bool,
  checksumXXHash32: bool, dynamicHuffman: bool, dynamicHuffmanBufferReq: bool, precompiledHuffman: bool,
  autoSelectBestHuffmanTree: bool,
  validWindowSizeMaskCompression: 'uint8_t',
  validWindowSizeMaskDecompression: 'uint8_t',
  internalHuffmanMem: u32,
  endOfLastBlock: bool, reportParityError: bool, batchAndPack: bool, compressAndVerify: bool,
  compressAndVerifyStrict: bool, compressAndVerifyAndRecover: bool, integrityCrcs: bool,
  dcChainCapInfo: koffi.array(u32, 1, 'Array'),
  integrityCrcs64b: bool,
});

export const CpaDcSessionSetupData = koffi.struct('CpaDcSessionSetupData', {
  compLevel: u32,
  compType: u32,
  huffType: u32,
  autoSelectBestHuffmanTree: u32,
  sessDirection: u32,
  sessState: u32,
  windowSize: u32,
  minMatch: u32,
  lz4BlockMaxSize: u32,
  lz4BlockChecksum: bool,
  lz4BlockIndependence: bool,
  checksum: u32,
  accumulateXXHash: bool,
});

export const CpaDcRqResults = koffi.struct('CpaDcRqResults', {
  status: 'int32_t',
  produced: u32,
  consumed: u32,
  checksum: u32,
  endOfLastBlock: bool,
  dataUncompressed: bool,
});

const CpaDcSkipData = koffi.struct('CpaDcSkipData', {
  skipMode: u32, skipLength: u32, strideLength: u32, firstSkipOffset: u32,
});

export const CpaDcOpData = koffi.struct('CpaDcOpData', {
  flushFlag: u32,
  compressAndVerify: bool,
  compressAndVerifyAndRecover: bool,
  integrityCrcCheck: bool,
  verifyHwIntegrityCrcs: bool,
  integrityCrcSize: u32,
  inputSkipData: CpaDcSkipData,
  outputSkipData: CpaDcSkipData,
  pCrcData: ptr,
});

const CpaCySymCipherSetupData = koffi.struct('CpaCySymCipherSetupData', {
  cipherAlgorithm: u32,
  cipherKeyLenInBytes: u32,
  pCipherKey: ptr,
  cipherDirection: u32,
});

const CpaCySymHashAuthModeSetupData = koffi.struct('CpaCySymHashAuthModeSetupData', {
  authKey: ptr,
  authKeyLenInBytes: u32,
  aadLenInBytes: u32,
});

const CpaCySymHashNestedModeSetupData = koffi.struct('CpaCySymHashNestedModeSetupData', {
  pInnerPrefixData: ptr,
  innerPrefixLenInBytes: u32,
  outerHashAlgorithm: u32,
  pOuterPrefixData: ptr,
  outerPrefixLenInBytes: u32,
});

const CpaCySymHashSetupData = koffi.struct('CpaCySymHashSetupData', {
  hashAlgorithm: u32,
  hashMode: u32,
  digestResultLenInBytes: u32,
  authModeSetupData: CpaCySymHashAuthModeSetupData,
  nestedModeSetupData: CpaCySymHashNestedModeSetupData,
});

export const CpaCySymSessionSetupData = koffi.struct('CpaCySymSessionSetupData', {
  sessionPriority: u32,
  symOperation: u32,
  cipherSetupData: CpaCySymCipherSetupData,
  hashSetupData: CpaCySymHashSetupData,
  algChainOrder: u32,
  digestIsAppended: bool,
  verifyDigest: bool,
  partialsNotRequired: bool,
});

export const CpaCySymOpData = koffi.struct('CpaCySymOpData', {
  sessionCtx: ptr,
  packetType: u32,
  pIv: ptr,
  ivLenInBytes: u32,
  cryptoStartSrcOffsetInBytes: u32,
  messageLenToCipherInBytes: u32,
  hashStartSrcOffsetInBytes: u32,
  messageLenToHashInBytes: u32,
  pDigestResult: ptr,
  pAdditionalAuthData: ptr,
});

/** Completion callbacks (called on the thread that polls the instance). */
export const CpaDcCallbackFn = koffi.proto('void CpaDcCallbackFn(void *callbackTag, int32_t status)');
export const CpaCySymCbFunc = koffi.proto(
  'void CpaCySymCbFunc(void *pCallbackTag, int32_t status, uint32_t operationType, void *pOpData, void *pDstBuffer, int32_t verifyResult)',
);

/** Byte offsets the hot path writes through DataViews (read from the koffi types, so described once). */
export const Off = {
  flat: { len: koffi.offsetof(CpaFlatBuffer, 'dataLenInBytes'), data: koffi.offsetof(CpaFlatBuffer, 'pData') },
  list: {
    num: koffi.offsetof(CpaBufferList, 'numBuffers'),
    buffers: koffi.offsetof(CpaBufferList, 'pBuffers'),
    meta: koffi.offsetof(CpaBufferList, 'pPrivateMetaData'),
  },
  dcOp: { flush: koffi.offsetof(CpaDcOpData, 'flushFlag'), verify: koffi.offsetof(CpaDcOpData, 'compressAndVerify') },
  dcRes: {
    status: koffi.offsetof(CpaDcRqResults, 'status'),
    produced: koffi.offsetof(CpaDcRqResults, 'produced'),
    consumed: koffi.offsetof(CpaDcRqResults, 'consumed'),
    checksum: koffi.offsetof(CpaDcRqResults, 'checksum'),
  },
  symOp: {
    session: koffi.offsetof(CpaCySymOpData, 'sessionCtx'),
    packetType: koffi.offsetof(CpaCySymOpData, 'packetType'),
    iv: koffi.offsetof(CpaCySymOpData, 'pIv'),
    ivLen: koffi.offsetof(CpaCySymOpData, 'ivLenInBytes'),
    cipherStart: koffi.offsetof(CpaCySymOpData, 'cryptoStartSrcOffsetInBytes'),
    cipherLen: koffi.offsetof(CpaCySymOpData, 'messageLenToCipherInBytes'),
    hashStart: koffi.offsetof(CpaCySymOpData, 'hashStartSrcOffsetInBytes'),
    hashLen: koffi.offsetof(CpaCySymOpData, 'messageLenToHashInBytes'),
    digest: koffi.offsetof(CpaCySymOpData, 'pDigestResult'),
  },
} as const;
