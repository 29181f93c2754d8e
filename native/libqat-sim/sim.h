/* Internal state shared by the libqat-sim source files: instances, request rings, sessions. */
#ifndef QAT_SIM_INTERNAL_H
#define QAT_SIM_INTERNAL_H

#include <pthread.h>
#include "qat_api.h"

#define SIM_EXPORT __attribute__((visibility("default")))
#define SIM_MAX_INSTANCES 256

enum sim_kind { SIM_DC = 1, SIM_CY = 6 };
enum sim_req_kind { REQ_COMPRESS, REQ_DECOMPRESS, REQ_SYM };

typedef struct sim_req {
    int kind;
    void *session;
    const CpaBufferList *src;
    CpaBufferList *dst;
    void *op_data;       /* CpaDcOpData* or CpaCySymOpData* */
    CpaDcRqResults *results;
    void *tag;
} sim_req;

typedef struct sim_instance {
    uint32_t magic;
    int kind;
    int started;
    char name[64];        /* INSTANCE_NAME answer, e.g. "dc0" */
    char bdf[32];         /* DEVICE_ID answer, e.g. "0000:6b:00.1" */
    char device_name[64]; /* DEVICE_INFO device_name, e.g. "4xxxvf" */
    uint16_t bdf16, pkg_id, accelid, bank, core, node, ring_size;
    int polled;
    CpaVirtualToPhysical v2p;
    pthread_mutex_t lock;
    sim_req *ring;
    uint32_t head, count;
} sim_instance;

/* instances.c */
sim_instance *sim_lookup(CpaInstanceHandle h, int kind);
int sim_add_instance(const sim_instance *proto);
void sim_clear_instances(void);

/* ring.c */
CpaStatus sim_ring_submit(sim_instance *inst, const sim_req *req);
CpaStatus sim_ring_poll(sim_instance *inst, Cpa32U quota, void (*work)(sim_instance *, sim_req *));

/* mgr_client.c: the qatmgr conversation; fills the instance table. */
CpaStatus sim_mgr_start(const char *process_name);
CpaStatus sim_mgr_stop(void);

/* buffers.c */
int sim_list_ok(sim_instance *inst, const CpaBufferList *list);
uint64_t sim_list_len(const CpaBufferList *list);
void sim_list_read(const CpaBufferList *list, uint64_t off, uint8_t *out, uint64_t len);
void sim_list_write(CpaBufferList *list, uint64_t off, const uint8_t *in, uint64_t len);
int sim_usdm_contains(const void *p, uint64_t len);

#endif
