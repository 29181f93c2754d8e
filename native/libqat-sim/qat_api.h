/* Our own declarations of the public QAT API subset libqat-sim exports (layouts per qatlib 26.08 headers). */
#ifndef QAT_SIM_API_H
#define QAT_SIM_API_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t Cpa8U;
typedef uint16_t Cpa16U;
typedef uint32_t Cpa32U;
typedef int32_t Cpa32S;
typedef uint64_t Cpa64U;
typedef Cpa32S CpaStatus;
typedef void *CpaInstanceHandle;
typedef Cpa64U CpaPhysicalAddr;
typedef CpaPhysicalAddr (*CpaVirtualToPhysical)(void *virt);

typedef enum { CPA_FALSE = 0, CPA_TRUE = 1 } CpaBoolean;

#define CPA_STATUS_SUCCESS 0
#define CPA_STATUS_FAIL (-1)
#define CPA_STATUS_RETRY (-2)
#define CPA_STATUS_RESOURCE (-3)
#define CPA_STATUS_INVALID_PARAM (-4)
#define CPA_STATUS_FATAL (-5)
#define CPA_STATUS_UNSUPPORTED (-6)

typedef struct {
    Cpa32U dataLenInBytes;
    Cpa8U *pData;
} CpaFlatBuffer;

typedef struct {
    Cpa32U numBuffers;
    CpaFlatBuffer *pBuffers;
    void *pUserData;
    void *pPrivateMetaData;
} CpaBufferList;

/* CpaAccelerationServiceType */
#define CPA_ACC_SVC_TYPE_CRYPTO 0
#define CPA_ACC_SVC_TYPE_DATA_COMPRESSION 1

typedef struct {
    Cpa16U packageId;
    Cpa16U acceleratorId;
    Cpa16U executionEngineId;
    Cpa16U busAddress;
    Cpa32U kptAcHandle;
} CpaPhysicalInstanceId;

typedef struct {
    Cpa32U accelerationServiceType;
    Cpa8U vendorName[64];
    Cpa8U partName[64];
    Cpa8U swVersion[64];
    Cpa8U instName[64];
    Cpa8U instID[128];
    CpaPhysicalInstanceId physInstId;
    Cpa32U coreAffinity[4096 / 32];
    Cpa32U nodeAffinity;
    Cpa32U operState; /* CPA_OPER_STATE_DOWN 0, UP 1 */
    CpaBoolean requiresPhysicallyContiguousMemory;
    CpaBoolean isPolled;
    CpaBoolean isOffloaded;
} CpaInstanceInfo2;

/* ---- compression ---- */
typedef void *CpaDcSessionHandle;
typedef void (*CpaDcCallbackFn)(void *callbackTag, CpaStatus status);

#define CPA_DC_FLUSH_NONE 0
#define CPA_DC_FLUSH_FINAL 1
#define CPA_DC_FLUSH_SYNC 2
#define CPA_DC_FLUSH_FULL 3
#define CPA_DC_DEFLATE 3
#define CPA_DC_DIR_COMPRESS 0
#define CPA_DC_DIR_DECOMPRESS 1
#define CPA_DC_DIR_COMBINED 2
#define CPA_DC_STATEFUL 0
#define CPA_DC_STATELESS 1
#define CPA_DC_NONE 0
#define CPA_DC_CRC32 1
#define CPA_DC_ADLER32 2

#define CPA_DC_OK 0
#define CPA_DC_INVALID_BLOCK_TYPE (-1)
#define CPA_DC_INVALID_CODE (-9)
#define CPA_DC_OVERFLOW (-11)
#define CPA_DC_SOFTERR (-12)
#define CPA_DC_INCOMPLETE_FILE_ERR (-15)

typedef struct {
    CpaBoolean statefulLZSCompression, statefulLZSDecompression, statelessLZSCompression,
        statelessLZSDecompression, statefulLZSSCompression, statefulLZSSDecompression,
        statelessLZSSCompression, statelessLZSSDecompression, statefulELZSCompression,
        statefulELZSDecompression, statelessELZSCompression, statelessELZSDecompression,
        statefulDeflateCompression, statefulDeflateDecompression, statelessDeflateCompression,
        statelessDeflateDecompression, statelessLZ4Compression, statelessLZ4Decompression,
        statefulLZ4Decompression, statelessLZ4SCompression, checksumCRC32, checksumAdler32,
        checksumXXHash32, dynamicHuffman, dynamicHuffmanBufferReq, precompiledHuffman,
        autoSelectBestHuffmanTree;
    Cpa8U validWindowSizeMaskCompression;
    Cpa8U validWindowSizeMaskDecompression;
    Cpa32U internalHuffmanMem;
    CpaBoolean endOfLastBlock, reportParityError, batchAndPack, compressAndVerify,
        compressAndVerifyStrict, compressAndVerifyAndRecover, integrityCrcs;
    Cpa32U dcChainCapInfo[1];
    CpaBoolean integrityCrcs64b;
} CpaDcInstanceCapabilities;

typedef struct {
    Cpa32U compLevel;        /* CpaDcCompLvl 1..12 */
    Cpa32U compType;         /* CpaDcCompType */
    Cpa32U huffType;         /* CpaDcHuffType */
    Cpa32U autoSelectBestHuffmanTree;
    Cpa32U sessDirection;    /* CpaDcSessionDir */
    Cpa32U sessState;        /* CpaDcSessionState */
    Cpa32U windowSize;
    Cpa32U minMatch;
    Cpa32U lz4BlockMaxSize;
    CpaBoolean lz4BlockChecksum;
    CpaBoolean lz4BlockIndependence;
    Cpa32U checksum;         /* CpaDcChecksum */
    CpaBoolean accumulateXXHash;
} CpaDcSessionSetupData;

typedef struct {
    Cpa32S status; /* CpaDcReqStatus */
    Cpa32U produced;
    Cpa32U consumed;
    Cpa32U checksum;
    CpaBoolean endOfLastBlock;
    CpaBoolean dataUncompressed;
} CpaDcRqResults;

typedef struct {
    Cpa32U skipMode, skipLength, strideLength, firstSkipOffset;
} CpaDcSkipData;

typedef struct {
    Cpa32U flushFlag;
    CpaBoolean compressAndVerify;
    CpaBoolean compressAndVerifyAndRecover;
    CpaBoolean integrityCrcCheck;
    CpaBoolean verifyHwIntegrityCrcs;
    Cpa32U integrityCrcSize;
    CpaDcSkipData inputSkipData;
    CpaDcSkipData outputSkipData;
    void *pCrcData;
} CpaDcOpData;

/* ---- symmetric crypto ---- */
typedef void *CpaCySymSessionCtx;
typedef void (*CpaCySymCbFunc)(void *pCallbackTag, CpaStatus status, const Cpa32U operationType,
                               void *pOpData, CpaBufferList *pDstBuffer, CpaBoolean verifyResult);

#define CPA_CY_PRIORITY_NORMAL 1
#define CPA_CY_PRIORITY_HIGH 2
#define CPA_CY_SYM_OP_NONE 0
#define CPA_CY_SYM_OP_CIPHER 1
#define CPA_CY_SYM_OP_HASH 2
#define CPA_CY_SYM_OP_ALGORITHM_CHAINING 3
#define CPA_CY_SYM_CIPHER_AES_ECB 3
#define CPA_CY_SYM_CIPHER_AES_CBC 4
#define CPA_CY_SYM_CIPHER_AES_CTR 5
#define CPA_CY_SYM_CIPHER_DIRECTION_ENCRYPT 1
#define CPA_CY_SYM_CIPHER_DIRECTION_DECRYPT 2
#define CPA_CY_SYM_HASH_MODE_PLAIN 1
#define CPA_CY_SYM_HASH_MODE_AUTH 2
#define CPA_CY_SYM_HASH_MODE_NESTED 3
#define CPA_CY_SYM_HASH_SHA1 2
#define CPA_CY_SYM_HASH_SHA256 4
#define CPA_CY_SYM_HASH_SHA384 5
#define CPA_CY_SYM_HASH_SHA512 6
#define CPA_CY_SYM_PACKET_TYPE_FULL 1

typedef struct {
    Cpa32U cipherAlgorithm;
    Cpa32U cipherKeyLenInBytes;
    Cpa8U *pCipherKey;
    Cpa32U cipherDirection;
} CpaCySymCipherSetupData;

typedef struct {
    Cpa8U *pInnerPrefixData;
    Cpa32U innerPrefixLenInBytes;
    Cpa32U outerHashAlgorithm;
    Cpa8U *pOuterPrefixData;
    Cpa32U outerPrefixLenInBytes;
} CpaCySymHashNestedModeSetupData;

typedef struct {
    Cpa8U *authKey;
    Cpa32U authKeyLenInBytes;
    Cpa32U aadLenInBytes;
} CpaCySymHashAuthModeSetupData;

typedef struct {
    Cpa32U hashAlgorithm;
    Cpa32U hashMode;
    Cpa32U digestResultLenInBytes;
    CpaCySymHashAuthModeSetupData authModeSetupData;
    CpaCySymHashNestedModeSetupData nestedModeSetupData;
} CpaCySymHashSetupData;

typedef struct {
    Cpa32U sessionPriority;
    Cpa32U symOperation;
    CpaCySymCipherSetupData cipherSetupData;
    CpaCySymHashSetupData hashSetupData;
    Cpa32U algChainOrder;
    CpaBoolean digestIsAppended;
    CpaBoolean verifyDigest;
    CpaBoolean partialsNotRequired;
} CpaCySymSessionSetupData;

typedef struct {
    CpaCySymSessionCtx sessionCtx;
    Cpa32U packetType;
    Cpa8U *pIv;
    Cpa32U ivLenInBytes;
    Cpa32U cryptoStartSrcOffsetInBytes;
    Cpa32U messageLenToCipherInBytes;
    Cpa32U hashStartSrcOffsetInBytes;
    Cpa32U messageLenToHashInBytes;
    Cpa8U *pDigestResult;
    Cpa8U *pAdditionalAuthData;
} CpaCySymOpData;

/* Layout checks against the sizes/offsets the upstream headers give on x86-64. */
_Static_assert(sizeof(CpaFlatBuffer) == 16, "CpaFlatBuffer");
_Static_assert(sizeof(CpaBufferList) == 32, "CpaBufferList");
_Static_assert(sizeof(CpaInstanceInfo2) == 932, "CpaInstanceInfo2");
_Static_assert(offsetof(CpaInstanceInfo2, physInstId) == 388, "physInstId");
_Static_assert(offsetof(CpaInstanceInfo2, nodeAffinity) == 912, "nodeAffinity");
_Static_assert(sizeof(CpaDcInstanceCapabilities) == 152, "CpaDcInstanceCapabilities");
_Static_assert(sizeof(CpaDcSessionSetupData) == 52, "CpaDcSessionSetupData");
_Static_assert(sizeof(CpaDcRqResults) == 24, "CpaDcRqResults");
_Static_assert(sizeof(CpaDcOpData) == 64, "CpaDcOpData");
_Static_assert(offsetof(CpaDcOpData, pCrcData) == 56, "pCrcData");
_Static_assert(sizeof(CpaCySymCipherSetupData) == 24, "CpaCySymCipherSetupData");
_Static_assert(sizeof(CpaCySymHashSetupData) == 64, "CpaCySymHashSetupData");
_Static_assert(sizeof(CpaCySymSessionSetupData) == 112, "CpaCySymSessionSetupData");
_Static_assert(offsetof(CpaCySymSessionSetupData, hashSetupData) == 32, "hashSetupData");
_Static_assert(offsetof(CpaCySymSessionSetupData, algChainOrder) == 96, "algChainOrder");
_Static_assert(sizeof(CpaCySymOpData) == 64, "CpaCySymOpData");
_Static_assert(offsetof(CpaCySymOpData, pDigestResult) == 48, "pDigestResult");

#endif
