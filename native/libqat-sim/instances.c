/* Process start/stop, the instance table and the instance-management calls of the DC and CY APIs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define INSTANCE_MAGIC 0x51415449u /* "QATI" */

static sim_instance *table[SIM_MAX_INSTANCES];
static int ninstances;
static int start_count;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

int sim_add_instance(const sim_instance *proto) {
    if (ninstances >= SIM_MAX_INSTANCES) return -1;
    sim_instance *inst = calloc(1, sizeof *inst);
    if (!inst) return -1;
    *inst = *proto;
    inst->magic = INSTANCE_MAGIC;
    inst->ring = calloc(inst->ring_size, sizeof(sim_req));
    if (!inst->ring) { free(inst); return -1; }
    pthread_mutex_init(&inst->lock, NULL);
    table[ninstances++] = inst;
    return 0;
}

void sim_clear_instances(void) {
    for (int i = 0; i < ninstances; i++) {
        table[i]->magic = 0;
        pthread_mutex_destroy(&table[i]->lock);
        free(table[i]->ring);
        free(table[i]);
        table[i] = NULL;
    }
    ninstances = 0;
}

/* A handle is valid only if it is one of ours (never dereferenced before that check). */
sim_instance *sim_lookup(CpaInstanceHandle h, int kind) {
    if (!h) return NULL;
    for (int i = 0; i < ninstances; i++)
        if (table[i] == h && table[i]->magic == INSTANCE_MAGIC && table[i]->kind == kind) return table[i];
    return NULL;
}

SIM_EXPORT CpaStatus icp_sal_userStart(const char *process_name) {
    pthread_mutex_lock(&start_lock);
    CpaStatus s = CPA_STATUS_SUCCESS;
    if (start_count == 0) s = sim_mgr_start(process_name);
    if (s == CPA_STATUS_SUCCESS) start_count++;
    pthread_mutex_unlock(&start_lock);
    return s;
}

SIM_EXPORT CpaStatus icp_sal_userStop(void) {
    pthread_mutex_lock(&start_lock);
    CpaStatus s = CPA_STATUS_SUCCESS;
    if (start_count == 0) s = CPA_STATUS_FAIL;
    else if (--start_count == 0) {
        s = sim_mgr_stop();
        sim_clear_instances();
    }
    pthread_mutex_unlock(&start_lock);
    return s;
}

static CpaStatus count_of(int kind, Cpa16U *n) {
    if (!n) return CPA_STATUS_INVALID_PARAM;
    if (start_count == 0) return CPA_STATUS_FAIL;
    Cpa16U c = 0;
    for (int i = 0; i < ninstances; i++) if (table[i]->kind == kind) c++;
    *n = c;
    return CPA_STATUS_SUCCESS;
}

static CpaStatus handles_of(int kind, Cpa16U num, CpaInstanceHandle *out) {
    if (!out || num == 0) return CPA_STATUS_INVALID_PARAM;
    if (start_count == 0) return CPA_STATUS_FAIL;
    Cpa16U have = 0;
    count_of(kind, &have);
    if (num > have) return CPA_STATUS_INVALID_PARAM;
    Cpa16U j = 0;
    for (int i = 0; i < ninstances && j < num; i++) if (table[i]->kind == kind) out[j++] = table[i];
    return CPA_STATUS_SUCCESS;
}

static CpaStatus info_of(int kind, CpaInstanceHandle h, CpaInstanceInfo2 *info) {
    sim_instance *inst = sim_lookup(h, kind);
    if (!inst || !info) return CPA_STATUS_INVALID_PARAM;
    memset(info, 0, sizeof *info);
    info->accelerationServiceType = kind == SIM_DC ? CPA_ACC_SVC_TYPE_DATA_COMPRESSION : CPA_ACC_SVC_TYPE_CRYPTO;
    snprintf((char *)info->vendorName, sizeof info->vendorName, "qatmgr-ts libqat-sim");
    snprintf((char *)info->partName, sizeof info->partName, "%s", inst->device_name);
    snprintf((char *)info->swVersion, sizeof info->swVersion, "26.8.0-sim");
    snprintf((char *)info->instName, sizeof info->instName, "%s", inst->name);
    snprintf((char *)info->instID, sizeof info->instID, "%s/bank%u", inst->bdf, inst->bank);
    info->physInstId.packageId = inst->pkg_id;
    info->physInstId.acceleratorId = inst->accelid;
    info->physInstId.executionEngineId = inst->bank;
    info->physInstId.busAddress = inst->bdf16;
    if (inst->core < 4096) info->coreAffinity[inst->core / 32] = 1u << (inst->core % 32);
    info->nodeAffinity = inst->node;
    info->operState = 1;
    info->requiresPhysicallyContiguousMemory = CPA_TRUE;
    info->isPolled = inst->polled ? CPA_TRUE : CPA_FALSE;
    info->isOffloaded = CPA_FALSE; /* software: be honest about it */
    return CPA_STATUS_SUCCESS;
}

static CpaStatus start_of(int kind, CpaInstanceHandle h, int on) {
    sim_instance *inst = sim_lookup(h, kind);
    if (!inst) return CPA_STATUS_INVALID_PARAM;
    pthread_mutex_lock(&inst->lock);
    inst->started = on;
    if (!on) { inst->head = 0; inst->count = 0; } /* in-flight requests are dropped, as on a real stop */
    pthread_mutex_unlock(&inst->lock);
    return CPA_STATUS_SUCCESS;
}

static CpaStatus translation_of(int kind, CpaInstanceHandle h, CpaVirtualToPhysical fn) {
    sim_instance *inst = sim_lookup(h, kind);
    if (!inst || !fn) return CPA_STATUS_INVALID_PARAM;
    inst->v2p = fn;
    return CPA_STATUS_SUCCESS;
}

static CpaStatus meta_size_of(int kind, CpaInstanceHandle h, Cpa32U nbuf, Cpa32U *size) {
    if (!sim_lookup(h, kind) || !size || nbuf == 0) return CPA_STATUS_INVALID_PARAM;
    *size = 64 + 16 * nbuf; /* like a real SGL descriptor: header plus one entry per buffer */
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaDcGetNumInstances(Cpa16U *n) { return count_of(SIM_DC, n); }
SIM_EXPORT CpaStatus cpaCyGetNumInstances(Cpa16U *n) { return count_of(SIM_CY, n); }
SIM_EXPORT CpaStatus cpaDcGetInstances(Cpa16U num, CpaInstanceHandle *out) { return handles_of(SIM_DC, num, out); }
SIM_EXPORT CpaStatus cpaCyGetInstances(Cpa16U num, CpaInstanceHandle *out) { return handles_of(SIM_CY, num, out); }
SIM_EXPORT CpaStatus cpaDcInstanceGetInfo2(CpaInstanceHandle h, CpaInstanceInfo2 *i) { return info_of(SIM_DC, h, i); }
SIM_EXPORT CpaStatus cpaCyInstanceGetInfo2(CpaInstanceHandle h, CpaInstanceInfo2 *i) { return info_of(SIM_CY, h, i); }
SIM_EXPORT CpaStatus cpaDcStopInstance(CpaInstanceHandle h) { return start_of(SIM_DC, h, 0); }
SIM_EXPORT CpaStatus cpaCyStartInstance(CpaInstanceHandle h) { return start_of(SIM_CY, h, 1); }
SIM_EXPORT CpaStatus cpaCyStopInstance(CpaInstanceHandle h) { return start_of(SIM_CY, h, 0); }
SIM_EXPORT CpaStatus cpaDcSetAddressTranslation(CpaInstanceHandle h, CpaVirtualToPhysical fn) {
    return translation_of(SIM_DC, h, fn);
}
SIM_EXPORT CpaStatus cpaCySetAddressTranslation(CpaInstanceHandle h, CpaVirtualToPhysical fn) {
    return translation_of(SIM_CY, h, fn);
}
SIM_EXPORT CpaStatus cpaDcBufferListGetMetaSize(CpaInstanceHandle h, Cpa32U n, Cpa32U *size) {
    return meta_size_of(SIM_DC, h, n, size);
}
SIM_EXPORT CpaStatus cpaCyBufferListGetMetaSize(CpaInstanceHandle h, Cpa32U n, Cpa32U *size) {
    return meta_size_of(SIM_CY, h, n, size);
}

SIM_EXPORT CpaStatus cpaDcStartInstance(CpaInstanceHandle h, Cpa16U nbuf, CpaBufferList **bufs) {
    (void)bufs;
    (void)nbuf; /* gen4 needs no intermediate buffers */
    return start_of(SIM_DC, h, 1);
}

SIM_EXPORT CpaStatus cpaDcGetNumIntermediateBuffers(CpaInstanceHandle h, Cpa16U *n) {
    if (!sim_lookup(h, SIM_DC) || !n) return CPA_STATUS_INVALID_PARAM;
    *n = 0;
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaDcQueryCapabilities(CpaInstanceHandle h, CpaDcInstanceCapabilities *c) {
    if (!sim_lookup(h, SIM_DC) || !c) return CPA_STATUS_INVALID_PARAM;
    memset(c, 0, sizeof *c);
    c->statelessDeflateCompression = CPA_TRUE;
    c->statelessDeflateDecompression = CPA_TRUE;
    c->checksumCRC32 = CPA_TRUE;
    c->checksumAdler32 = CPA_TRUE;
    c->dynamicHuffman = CPA_TRUE;
    c->validWindowSizeMaskCompression = 0x0f;
    c->validWindowSizeMaskDecompression = 0x0f;
    c->endOfLastBlock = CPA_TRUE;
    return CPA_STATUS_SUCCESS;
}
