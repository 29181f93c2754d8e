/* Compression service: stateless raw deflate sessions (zlib), submitted to the ring, worked at poll time. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "sim.h"

#define DC_SESSION_MAGIC 0x44435353u /* "DCSS" */

typedef struct {
    uint32_t magic;
    sim_instance *inst;
    int level, direction, checksum;
    CpaDcCallbackFn cb;
} dc_session;

static __thread z_stream *tls_deflate[10];
static __thread z_stream *tls_inflate;

static dc_session *session_of(CpaDcSessionHandle h) {
    if (!h || !sim_usdm_contains(h, sizeof(dc_session))) return NULL;
    dc_session *s = (dc_session *)h;
    return s->magic == DC_SESSION_MAGIC ? s : NULL;
}

SIM_EXPORT CpaStatus cpaDcGetSessionSize(CpaInstanceHandle h, CpaDcSessionSetupData *setup, Cpa32U *sess, Cpa32U *ctx) {
    if (!sim_lookup(h, SIM_DC) || !setup || !sess) return CPA_STATUS_INVALID_PARAM;
    *sess = (sizeof(dc_session) + 63) & ~63u;
    if (ctx) *ctx = 0; /* stateless only: no context buffer */
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaDcInitSession(CpaInstanceHandle h, CpaDcSessionHandle sh, CpaDcSessionSetupData *setup,
                                      CpaBufferList *ctx, CpaDcCallbackFn cb) {
    (void)ctx;
    sim_instance *inst = sim_lookup(h, SIM_DC);
    if (!inst || !sh || !setup) return CPA_STATUS_INVALID_PARAM;
    if (!sim_usdm_contains(sh, sizeof(dc_session))) return CPA_STATUS_INVALID_PARAM;
    if (setup->compLevel < 1 || setup->compLevel > 12) return CPA_STATUS_INVALID_PARAM;
    if (setup->compType == 4 || setup->compType == 5) return CPA_STATUS_UNSUPPORTED; /* LZ4, LZ4S */
    if (setup->compType != CPA_DC_DEFLATE) return CPA_STATUS_INVALID_PARAM;
    if (setup->huffType > 2 || setup->sessDirection > CPA_DC_DIR_COMBINED) return CPA_STATUS_INVALID_PARAM;
    if (setup->sessState == CPA_DC_STATEFUL) return CPA_STATUS_UNSUPPORTED;
    if (setup->sessState != CPA_DC_STATELESS) return CPA_STATUS_INVALID_PARAM;
    if (setup->checksum > CPA_DC_ADLER32 + 1) return CPA_STATUS_INVALID_PARAM;
    dc_session *s = (dc_session *)sh;
    memset(s, 0, sizeof *s);
    s->magic = DC_SESSION_MAGIC;
    s->inst = inst;
    s->level = setup->compLevel > 9 ? 9 : (int)setup->compLevel;
    s->direction = (int)setup->sessDirection;
    s->checksum = (int)setup->checksum;
    s->cb = cb;
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaDcRemoveSession(CpaInstanceHandle h, CpaDcSessionHandle sh) {
    dc_session *s = session_of(sh);
    if (!sim_lookup(h, SIM_DC) || !s || s->inst != h) return CPA_STATUS_INVALID_PARAM;
    s->magic = 0;
    return CPA_STATUS_SUCCESS;
}

/* Contiguous view of a buffer list: the buffer itself when there is one, else a gathered copy. */
static uint8_t *flat_of(const CpaBufferList *l, uint64_t len, int *owned) {
    *owned = 0;
    if (l->numBuffers == 1) return l->pBuffers[0].pData;
    uint8_t *m = malloc(len ? len : 1);
    if (m) { *owned = 1; sim_list_read(l, 0, m, len); }
    return m;
}

static uint32_t checksum_of(int kind, uint32_t seed, const uint8_t *d, uint64_t n) {
    if (kind == CPA_DC_CRC32) return (uint32_t)crc32(seed, d, (uInt)n);
    if (kind == CPA_DC_ADLER32) return (uint32_t)adler32(seed ? seed : 1, d, (uInt)n);
    return 0;
}

static void do_dc(sim_instance *inst, sim_req *req) {
    (void)inst;
    dc_session *s = (dc_session *)req->session;
    const CpaDcOpData *op = (const CpaDcOpData *)req->op_data;
    CpaDcRqResults *res = req->results;
    uint64_t in_len = sim_list_len(req->src), out_cap = sim_list_len(req->dst);
    int in_owned, out_owned;
    uint8_t *in = flat_of(req->src, in_len, &in_owned);
    uint8_t *out = req->dst->numBuffers == 1 ? req->dst->pBuffers[0].pData : malloc(out_cap ? out_cap : 1);
    out_owned = req->dst->numBuffers != 1;
    uint32_t seed = res->checksum;
    memset(res, 0, sizeof *res);
    CpaStatus status = CPA_STATUS_SUCCESS;
    if (!in || !out) {
        res->status = CPA_DC_SOFTERR;
        status = CPA_STATUS_RESOURCE;
    } else if (req->kind == REQ_COMPRESS) {
        z_stream **zp = &tls_deflate[s->level];
        if (!*zp) {
            *zp = calloc(1, sizeof(z_stream));
            if (*zp && deflateInit2(*zp, s->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                free(*zp); *zp = NULL;
            }
        } else {
            deflateReset(*zp);
        }
        z_stream *z = *zp;
        if (!z) { res->status = CPA_DC_SOFTERR; status = CPA_STATUS_RESOURCE; }
        else {
            z->next_in = in; z->avail_in = (uInt)in_len;
            z->next_out = out; z->avail_out = (uInt)out_cap;
            int flush = op->flushFlag == CPA_DC_FLUSH_FINAL ? Z_FINISH
                      : op->flushFlag == CPA_DC_FLUSH_FULL ? Z_FULL_FLUSH : Z_SYNC_FLUSH;
            int r = deflate(z, flush);
            int complete = flush == Z_FINISH ? r == Z_STREAM_END : (r == Z_OK && z->avail_in == 0 && z->avail_out > 0);
            res->consumed = (Cpa32U)(in_len - z->avail_in);
            res->produced = (Cpa32U)(out_cap - z->avail_out);
            if (!complete) { res->status = CPA_DC_OVERFLOW; status = CPA_STATUS_FAIL; }
            res->checksum = checksum_of(s->checksum, seed, in, res->consumed);
        }
    } else {
        z_stream **zp = &tls_inflate;
        if (!*zp) {
            *zp = calloc(1, sizeof(z_stream));
            if (*zp && inflateInit2(*zp, -15) != Z_OK) { free(*zp); *zp = NULL; }
        } else {
            inflateReset(*zp);
        }
        z_stream *z = *zp;
        if (!z) { res->status = CPA_DC_SOFTERR; status = CPA_STATUS_RESOURCE; }
        else {
            z->next_in = in; z->avail_in = (uInt)in_len;
            z->next_out = out; z->avail_out = (uInt)out_cap;
            int r = inflate(z, Z_FINISH);
            res->consumed = (Cpa32U)(in_len - z->avail_in);
            res->produced = (Cpa32U)(out_cap - z->avail_out);
            if (r == Z_STREAM_END) {
                res->endOfLastBlock = CPA_TRUE;
            } else if (r == Z_DATA_ERROR) {
                res->status = (z->msg && strstr(z->msg, "block type")) ? CPA_DC_INVALID_BLOCK_TYPE : CPA_DC_INVALID_CODE;
                status = CPA_STATUS_FAIL;
            } else if (z->avail_out == 0) {
                res->status = CPA_DC_OVERFLOW;
                status = CPA_STATUS_FAIL;
            } else if (op->flushFlag == CPA_DC_FLUSH_FINAL) {
                res->status = CPA_DC_INCOMPLETE_FILE_ERR;
                status = CPA_STATUS_FAIL;
            }
            res->checksum = checksum_of(s->checksum, seed, out, res->produced);
        }
    }
    if (out_owned && out) sim_list_write(req->dst, 0, out, res->produced);
    if (in_owned) free(in);
    if (out_owned) free(out);
    if (s->cb) s->cb(req->tag, status);
    else *(CpaStatus *)req->tag = status; /* synchronous mode: the submitter waits for this */
}

static void work(sim_instance *inst, sim_req *req) { do_dc(inst, req); }

static CpaStatus submit(int kind, CpaInstanceHandle h, CpaDcSessionHandle sh, CpaBufferList *src,
                        CpaBufferList *dst, CpaDcOpData *op, CpaDcRqResults *res, void *tag) {
    sim_instance *inst = sim_lookup(h, SIM_DC);
    dc_session *s = session_of(sh);
    if (!inst || !s || s->inst != inst || !op || !res) return CPA_STATUS_INVALID_PARAM;
    if (kind == REQ_COMPRESS && s->direction == CPA_DC_DIR_DECOMPRESS) return CPA_STATUS_INVALID_PARAM;
    if (kind == REQ_DECOMPRESS && s->direction == CPA_DC_DIR_COMPRESS) return CPA_STATUS_INVALID_PARAM;
    if (op->flushFlag != CPA_DC_FLUSH_FINAL && op->flushFlag != CPA_DC_FLUSH_FULL &&
        op->flushFlag != CPA_DC_FLUSH_SYNC) return CPA_STATUS_INVALID_PARAM;
    if (!sim_list_ok(inst, src) || !sim_list_ok(inst, dst)) return CPA_STATUS_INVALID_PARAM;
    if (sim_list_len(src) == 0 || sim_list_len(dst) == 0) return CPA_STATUS_INVALID_PARAM;
    sim_req req = {kind, s, src, dst, op, res, tag};
    if (!s->cb) {
        /* synchronous mode: do the work on the caller's thread */
        CpaStatus st = CPA_STATUS_SUCCESS;
        if (!inst->started) return CPA_STATUS_FAIL;
        req.tag = &st;
        do_dc(inst, &req);
        return st;
    }
    return sim_ring_submit(inst, &req);
}

SIM_EXPORT CpaStatus cpaDcCompressData2(CpaInstanceHandle h, CpaDcSessionHandle sh, CpaBufferList *src,
                                        CpaBufferList *dst, CpaDcOpData *op, CpaDcRqResults *res, void *tag) {
    return submit(REQ_COMPRESS, h, sh, src, dst, op, res, tag);
}

SIM_EXPORT CpaStatus cpaDcDecompressData2(CpaInstanceHandle h, CpaDcSessionHandle sh, CpaBufferList *src,
                                          CpaBufferList *dst, CpaDcOpData *op, CpaDcRqResults *res, void *tag) {
    return submit(REQ_DECOMPRESS, h, sh, src, dst, op, res, tag);
}

SIM_EXPORT CpaStatus icp_sal_DcPollInstance(CpaInstanceHandle h, Cpa32U quota) {
    sim_instance *inst = sim_lookup(h, SIM_DC);
    if (!inst) return CPA_STATUS_INVALID_PARAM;
    return sim_ring_poll(inst, quota, work);
}
