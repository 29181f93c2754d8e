/* Per-instance request ring: submit enqueues (RETRY when full), poll dequeues and runs the work on the caller's thread. */
#include <string.h>
#include "sim.h"

CpaStatus sim_ring_submit(sim_instance *inst, const sim_req *req) {
    pthread_mutex_lock(&inst->lock);
    if (!inst->started) {
        pthread_mutex_unlock(&inst->lock);
        return CPA_STATUS_FAIL;
    }
    if (inst->count == inst->ring_size) {
        pthread_mutex_unlock(&inst->lock);
        return CPA_STATUS_RETRY;
    }
    inst->ring[(inst->head + inst->count) % inst->ring_size] = *req;
    inst->count++;
    pthread_mutex_unlock(&inst->lock);
    return CPA_STATUS_SUCCESS;
}

/* Returns SUCCESS when at least one response was processed, RETRY when the ring was empty (as icp_sal_*PollInstance). */
CpaStatus sim_ring_poll(sim_instance *inst, Cpa32U quota, void (*work)(sim_instance *, sim_req *)) {
    Cpa32U done = 0;
    for (;;) {
        if (quota && done >= quota) break;
        sim_req req;
        pthread_mutex_lock(&inst->lock);
        if (inst->count == 0) {
            pthread_mutex_unlock(&inst->lock);
            break;
        }
        req = inst->ring[inst->head];
        inst->head = (inst->head + 1) % inst->ring_size;
        inst->count--;
        pthread_mutex_unlock(&inst->lock);
        work(inst, &req);
        done++;
    }
    return done ? CPA_STATUS_SUCCESS : CPA_STATUS_RETRY;
}
