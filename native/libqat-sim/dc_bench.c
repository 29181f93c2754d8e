/* C reference driver for bench/ffi: compress+decompress round trips on the first DC instance, one in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "qat_api.h"

CpaStatus icp_sal_userStart(const char *);
CpaStatus icp_sal_userStop(void);
CpaStatus qaeMemInit(void);
void *qaeMemAllocNUMA(size_t, int, size_t);
uint64_t qaeVirtToPhysNUMA(void *);
CpaStatus cpaDcGetNumInstances(Cpa16U *);
CpaStatus cpaDcGetInstances(Cpa16U, CpaInstanceHandle *);
CpaStatus cpaDcSetAddressTranslation(CpaInstanceHandle, CpaVirtualToPhysical);
CpaStatus cpaDcStartInstance(CpaInstanceHandle, Cpa16U, CpaBufferList **);
CpaStatus cpaDcStopInstance(CpaInstanceHandle);
CpaStatus cpaDcBufferListGetMetaSize(CpaInstanceHandle, Cpa32U, Cpa32U *);
CpaStatus cpaDcGetSessionSize(CpaInstanceHandle, CpaDcSessionSetupData *, Cpa32U *, Cpa32U *);
CpaStatus cpaDcInitSession(CpaInstanceHandle, CpaDcSessionHandle, CpaDcSessionSetupData *, CpaBufferList *, CpaDcCallbackFn);
CpaStatus cpaDcCompressData2(CpaInstanceHandle, CpaDcSessionHandle, CpaBufferList *, CpaBufferList *, CpaDcOpData *,
                             CpaDcRqResults *, void *);
CpaStatus cpaDcDecompressData2(CpaInstanceHandle, CpaDcSessionHandle, CpaBufferList *, CpaBufferList *, CpaDcOpData *,
                               CpaDcRqResults *, void *);
CpaStatus icp_sal_DcPollInstance(CpaInstanceHandle, Cpa32U);

static volatile int done;
static volatile CpaStatus done_status;
static void on_done(void *tag, CpaStatus st) { (void)tag; done_status = st; done = 1; }

static CpaBufferList *list_of(CpaInstanceHandle inst, uint8_t *data, Cpa32U len) {
    Cpa32U meta = 0;
    cpaDcBufferListGetMetaSize(inst, 1, &meta);
    CpaBufferList *l = qaeMemAllocNUMA(sizeof(CpaBufferList) + sizeof(CpaFlatBuffer), 0, 64);
    l->numBuffers = 1;
    l->pBuffers = (CpaFlatBuffer *)(l + 1);
    l->pBuffers[0].pData = data;
    l->pBuffers[0].dataLenInBytes = len;
    l->pPrivateMetaData = qaeMemAllocNUMA(meta, 0, 64);
    return l;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_one(CpaInstanceHandle inst, CpaDcSessionHandle s, int compress, CpaBufferList *src, CpaBufferList *dst,
                   CpaDcOpData *op, CpaDcRqResults *res) {
    done = 0;
    CpaStatus st;
    do {
        st = compress ? cpaDcCompressData2(inst, s, src, dst, op, res, NULL)
                      : cpaDcDecompressData2(inst, s, src, dst, op, res, NULL);
        if (st == CPA_STATUS_RETRY) icp_sal_DcPollInstance(inst, 0);
    } while (st == CPA_STATUS_RETRY);
    if (st != CPA_STATUS_SUCCESS) return -1;
    while (!done) icp_sal_DcPollInstance(inst, 0);
    return done_status == CPA_STATUS_SUCCESS ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: dc_bench SIZE SECONDS PAYLOAD_FILE\n");
        return 2;
    }
    Cpa32U size = (Cpa32U)atoi(argv[1]);
    double secs = atof(argv[2]);
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror(argv[3]); return 2; }
    qaeMemInit();
    if (icp_sal_userStart("SSL") != CPA_STATUS_SUCCESS) { fprintf(stderr, "icp_sal_userStart failed\n"); return 1; }
    Cpa16U n = 0;
    cpaDcGetNumInstances(&n);
    if (n == 0) { fprintf(stderr, "no dc instances\n"); icp_sal_userStop(); return 1; }
    CpaInstanceHandle inst;
    cpaDcGetInstances(1, &inst);
    cpaDcSetAddressTranslation(inst, (CpaVirtualToPhysical)qaeVirtToPhysNUMA);
    cpaDcStartInstance(inst, 0, NULL);
    CpaDcSessionSetupData sd;
    memset(&sd, 0, sizeof sd);
    sd.compLevel = 1; sd.compType = CPA_DC_DEFLATE; sd.huffType = 2; sd.sessDirection = CPA_DC_DIR_COMBINED;
    sd.sessState = CPA_DC_STATELESS; sd.checksum = CPA_DC_CRC32;
    Cpa32U ssize = 0, csize = 0;
    cpaDcGetSessionSize(inst, &sd, &ssize, &csize);
    void *sess = qaeMemAllocNUMA(ssize, 0, 64);
    if (cpaDcInitSession(inst, sess, &sd, NULL, on_done) != CPA_STATUS_SUCCESS) { fprintf(stderr, "init session\n"); return 1; }
    Cpa32U cap = size + size / 8 + 1024;
    uint8_t *plain = qaeMemAllocNUMA(size, 0, 64), *comp = qaeMemAllocNUMA(cap, 0, 64), *back = qaeMemAllocNUMA(size, 0, 64);
    if (fread(plain, 1, size, f) != size) { fprintf(stderr, "short payload file\n"); return 2; }
    fclose(f);
    CpaBufferList *lplain = list_of(inst, plain, size), *lcomp = list_of(inst, comp, cap), *lback = list_of(inst, back, size);
    CpaDcOpData *op = qaeMemAllocNUMA(sizeof *op, 0, 64);
    CpaDcRqResults *res = qaeMemAllocNUMA(sizeof *res, 0, 64);
    op->flushFlag = CPA_DC_FLUSH_FINAL;
    long ops = 0;
    double t0 = now(), t;
    int bad = 0;
    do {
        lcomp->pBuffers[0].dataLenInBytes = cap;
        if (run_one(inst, sess, 1, lplain, lcomp, op, res) != 0) { bad = 1; break; }
        lcomp->pBuffers[0].dataLenInBytes = res->produced;
        if (run_one(inst, sess, 0, lcomp, lback, op, res) != 0) { bad = 1; break; }
        if (res->produced != size || memcmp(plain, back, size) != 0) { bad = 1; break; }
        ops++;
        t = now();
    } while (t - t0 < secs);
    t = now();
    printf("{\"size\":%u,\"ops\":%ld,\"seconds\":%.6f,\"opsPerSec\":%.1f,\"ok\":%s}\n", size, ops, t - t0,
           ops / (t - t0), bad ? "false" : "true");
    cpaDcStopInstance(inst);
    icp_sal_userStop();
    return bad;
}
