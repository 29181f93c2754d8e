/* Scatter/gather helpers over CpaBufferList, and the check that every buffer lives in USDM memory. */
#include <string.h>
#include "sim.h"

CpaPhysicalAddr qaeVirtToPhysNUMA(void *virt);

/* Both ends of the range must translate: the range lies in USDM memory (libusdm exports nothing finer). */
int sim_usdm_contains(const void *p, uint64_t len) {
    if (!p) return 0;
    if (len == 0) len = 1;
    return qaeVirtToPhysNUMA((void *)p) != 0 && qaeVirtToPhysNUMA((uint8_t *)p + len - 1) != 0;
}

/* Like the hardware path: every flat buffer must translate to a physical address (USDM memory only). */
int sim_list_ok(sim_instance *inst, const CpaBufferList *list) {
    if (!list || list->numBuffers == 0 || !list->pBuffers) return 0;
    /* libqat builds the hardware SGL in pPrivateMetaData: it must exist and be pinned */
    if (!list->pPrivateMetaData || !sim_usdm_contains(list->pPrivateMetaData, 64)) return 0;
    for (Cpa32U i = 0; i < list->numBuffers; i++) {
        const CpaFlatBuffer *fb = &list->pBuffers[i];
        if (fb->dataLenInBytes == 0) continue;
        if (!fb->pData) return 0;
        CpaVirtualToPhysical v2p = inst->v2p ? inst->v2p : (CpaVirtualToPhysical)qaeVirtToPhysNUMA;
        if (v2p(fb->pData) == 0) return 0;
        if (!sim_usdm_contains(fb->pData, fb->dataLenInBytes)) return 0;
    }
    return 1;
}

uint64_t sim_list_len(const CpaBufferList *list) {
    uint64_t n = 0;
    for (Cpa32U i = 0; i < list->numBuffers; i++) n += list->pBuffers[i].dataLenInBytes;
    return n;
}

static void copy_list(const CpaBufferList *list, uint64_t off, uint8_t *mem, uint64_t len, int to_list) {
    for (Cpa32U i = 0; i < list->numBuffers && len > 0; i++) {
        const CpaFlatBuffer *fb = &list->pBuffers[i];
        if (off >= fb->dataLenInBytes) { off -= fb->dataLenInBytes; continue; }
        uint64_t n = fb->dataLenInBytes - off;
        if (n > len) n = len;
        if (to_list) memcpy(fb->pData + off, mem, n); else memcpy(mem, fb->pData + off, n);
        mem += n; len -= n; off = 0;
    }
}

void sim_list_read(const CpaBufferList *list, uint64_t off, uint8_t *out, uint64_t len) {
    copy_list(list, off, out, len, 0);
}

void sim_list_write(CpaBufferList *list, uint64_t off, const uint8_t *in, uint64_t len) {
    copy_list(list, off, (uint8_t *)in, len, 1);
}
