/* libusdm.so.0 stand-in: aligned malloc-backed "pinned" memory, fake phys = virt, with a registry of live blocks. */
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "sim.h"

#define USDM_MAX_ALLOC (4u * 1024 * 1024) /* libusdm refuses more than 4 MiB per allocation */

typedef struct { uintptr_t start; size_t len; } block;
static block *blocks;
static size_t nblocks, capblocks;
static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;

SIM_EXPORT CpaStatus qaeMemInit(void) { return CPA_STATUS_SUCCESS; }
SIM_EXPORT void qaeMemDestroy(void) {}

/* index of the first block with start > p */
static size_t upper(uintptr_t p) {
    size_t lo = 0, hi = nblocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (blocks[mid].start <= p) lo = mid + 1; else hi = mid;
    }
    return lo;
}

SIM_EXPORT void *qaeMemAllocNUMA(size_t size, int node, size_t align) {
    (void)node;
    if (size == 0 || size > USDM_MAX_ALLOC) return NULL;
    if (align < 64) align = 64;
    if (align & (align - 1)) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0) return NULL;
    memset(p, 0, size);
    pthread_mutex_lock(&mlock);
    if (nblocks == capblocks) {
        size_t nc = capblocks ? capblocks * 2 : 256;
        block *nb = realloc(blocks, nc * sizeof(block));
        if (!nb) { pthread_mutex_unlock(&mlock); free(p); return NULL; }
        blocks = nb; capblocks = nc;
    }
    size_t i = upper((uintptr_t)p);
    memmove(&blocks[i + 1], &blocks[i], (nblocks - i) * sizeof(block));
    blocks[i].start = (uintptr_t)p; blocks[i].len = size;
    nblocks++;
    pthread_mutex_unlock(&mlock);
    return p;
}

SIM_EXPORT void qaeMemFreeNUMA(void **ptr) {
    if (!ptr || !*ptr) return;
    pthread_mutex_lock(&mlock);
    size_t i = upper((uintptr_t)*ptr);
    if (i > 0 && blocks[i - 1].start == (uintptr_t)*ptr) {
        memmove(&blocks[i - 1], &blocks[i], (nblocks - i) * sizeof(block));
        nblocks--;
        pthread_mutex_unlock(&mlock);
        free(*ptr);
    } else {
        pthread_mutex_unlock(&mlock); /* not ours: ignore, as libusdm does */
    }
    *ptr = NULL;
}

static int contains(const void *p, uint64_t len) {
    pthread_mutex_lock(&mlock);
    size_t i = upper((uintptr_t)p);
    int ok = i > 0 && (uintptr_t)p + len <= blocks[i - 1].start + blocks[i - 1].len;
    pthread_mutex_unlock(&mlock);
    return ok;
}

SIM_EXPORT uint64_t qaeVirtToPhysNUMA(void *virt) {
    return contains(virt, 1) ? (uint64_t)(uintptr_t)virt : 0;
}
