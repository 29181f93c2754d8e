/* Symmetric crypto service: cipher (AES ECB/CBC/CTR), hash (SHA, HMAC) and chains via OpenSSL, worked at poll time. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sim.h"

#define CY_SESSION_MAGIC 0x43595353u /* "CYSS" */

typedef struct {
    uint32_t magic;
    sim_instance *inst;
    Cpa32U op, cipher, key_len, direction, hash, hash_mode, digest_len, auth_len, chain_order;
    Cpa8U key[64], auth_key[128];
    int appended, verify;
    CpaCySymCbFunc cb;
} cy_session;

static cy_session *session_of(void *ctx) {
    if (!ctx || !sim_usdm_contains(ctx, sizeof(cy_session))) return NULL;
    cy_session *s = (cy_session *)ctx;
    return s->magic == CY_SESSION_MAGIC ? s : NULL;
}

static const EVP_MD *md_of(Cpa32U hash) {
    switch (hash) {
    case CPA_CY_SYM_HASH_SHA1: return EVP_sha1();
    case 3: return EVP_sha224();
    case CPA_CY_SYM_HASH_SHA256: return EVP_sha256();
    case CPA_CY_SYM_HASH_SHA384: return EVP_sha384();
    case CPA_CY_SYM_HASH_SHA512: return EVP_sha512();
    default: return NULL;
    }
}

static const EVP_CIPHER *cipher_of(Cpa32U alg, Cpa32U key_len) {
    int k = key_len == 16 ? 0 : key_len == 24 ? 1 : key_len == 32 ? 2 : -1;
    if (k < 0) return NULL;
    switch (alg) {
    case CPA_CY_SYM_CIPHER_AES_ECB: return k == 0 ? EVP_aes_128_ecb() : k == 1 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
    case CPA_CY_SYM_CIPHER_AES_CBC: return k == 0 ? EVP_aes_128_cbc() : k == 1 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
    case CPA_CY_SYM_CIPHER_AES_CTR: return k == 0 ? EVP_aes_128_ctr() : k == 1 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
    default: return NULL;
    }
}

SIM_EXPORT CpaStatus cpaCySymSessionCtxGetSize(CpaInstanceHandle h, const CpaCySymSessionSetupData *setup, Cpa32U *size) {
    if (!sim_lookup(h, SIM_CY) || !setup || !size) return CPA_STATUS_INVALID_PARAM;
    *size = (sizeof(cy_session) + 63) & ~63u;
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaCySymInitSession(CpaInstanceHandle h, CpaCySymCbFunc cb, const CpaCySymSessionSetupData *setup,
                                         CpaCySymSessionCtx ctx) {
    sim_instance *inst = sim_lookup(h, SIM_CY);
    if (!inst || !setup || !ctx || !sim_usdm_contains(ctx, sizeof(cy_session))) return CPA_STATUS_INVALID_PARAM;
    if (setup->sessionPriority != CPA_CY_PRIORITY_NORMAL && setup->sessionPriority != CPA_CY_PRIORITY_HIGH)
        return CPA_STATUS_INVALID_PARAM;
    if (setup->symOperation < CPA_CY_SYM_OP_CIPHER || setup->symOperation > CPA_CY_SYM_OP_ALGORITHM_CHAINING)
        return CPA_STATUS_INVALID_PARAM;
    cy_session s;
    memset(&s, 0, sizeof s);
    s.magic = CY_SESSION_MAGIC;
    s.inst = inst;
    s.op = setup->symOperation;
    s.cb = cb;
    if (s.op != CPA_CY_SYM_OP_HASH) {
        const CpaCySymCipherSetupData *c = &setup->cipherSetupData;
        if (c->cipherAlgorithm < 1 || c->cipherAlgorithm > 22) return CPA_STATUS_INVALID_PARAM;
        if (c->cipherDirection != CPA_CY_SYM_CIPHER_DIRECTION_ENCRYPT &&
            c->cipherDirection != CPA_CY_SYM_CIPHER_DIRECTION_DECRYPT) return CPA_STATUS_INVALID_PARAM;
        if (!c->pCipherKey || c->cipherKeyLenInBytes == 0 || c->cipherKeyLenInBytes > sizeof s.key)
            return CPA_STATUS_INVALID_PARAM;
        if (!cipher_of(c->cipherAlgorithm, 16)) return CPA_STATUS_UNSUPPORTED;
        if (!cipher_of(c->cipherAlgorithm, c->cipherKeyLenInBytes)) return CPA_STATUS_INVALID_PARAM;
        s.cipher = c->cipherAlgorithm;
        s.key_len = c->cipherKeyLenInBytes;
        s.direction = c->cipherDirection;
        memcpy(s.key, c->pCipherKey, s.key_len);
    }
    if (s.op != CPA_CY_SYM_OP_CIPHER) {
        const CpaCySymHashSetupData *hs = &setup->hashSetupData;
        if (hs->hashAlgorithm < 1 || hs->hashAlgorithm > 26) return CPA_STATUS_INVALID_PARAM;
        const EVP_MD *md = md_of(hs->hashAlgorithm);
        if (!md) return CPA_STATUS_UNSUPPORTED;
        if (hs->hashMode == CPA_CY_SYM_HASH_MODE_NESTED) return CPA_STATUS_UNSUPPORTED;
        if (hs->hashMode != CPA_CY_SYM_HASH_MODE_PLAIN && hs->hashMode != CPA_CY_SYM_HASH_MODE_AUTH)
            return CPA_STATUS_INVALID_PARAM;
        if (hs->digestResultLenInBytes == 0 || hs->digestResultLenInBytes > (Cpa32U)EVP_MD_get_size(md))
            return CPA_STATUS_INVALID_PARAM;
        if (hs->hashMode == CPA_CY_SYM_HASH_MODE_AUTH) {
            const CpaCySymHashAuthModeSetupData *a = &hs->authModeSetupData;
            if (a->authKeyLenInBytes > sizeof s.auth_key || (a->authKeyLenInBytes && !a->authKey))
                return CPA_STATUS_INVALID_PARAM;
            s.auth_len = a->authKeyLenInBytes;
            if (s.auth_len) memcpy(s.auth_key, a->authKey, s.auth_len);
        }
        s.hash = hs->hashAlgorithm;
        s.hash_mode = hs->hashMode;
        s.digest_len = hs->digestResultLenInBytes;
        s.appended = setup->digestIsAppended == CPA_TRUE;
        s.verify = setup->verifyDigest == CPA_TRUE;
    }
    if (s.op == CPA_CY_SYM_OP_ALGORITHM_CHAINING) {
        if (setup->algChainOrder != 1 && setup->algChainOrder != 2) return CPA_STATUS_INVALID_PARAM;
        s.chain_order = setup->algChainOrder;
    }
    memcpy(ctx, &s, sizeof s);
    return CPA_STATUS_SUCCESS;
}

SIM_EXPORT CpaStatus cpaCySymRemoveSession(CpaInstanceHandle h, CpaCySymSessionCtx ctx) {
    cy_session *s = session_of(ctx);
    if (!sim_lookup(h, SIM_CY) || !s || s->inst != h) return CPA_STATUS_INVALID_PARAM;
    s->magic = 0;
    return CPA_STATUS_SUCCESS;
}

static int run_cipher(cy_session *s, const CpaCySymOpData *op, CpaBufferList *dst) {
    Cpa32U n = op->messageLenToCipherInBytes;
    if (n == 0) return 0;
    uint8_t *buf = malloc(n);
    if (!buf) return -1;
    sim_list_read(dst, op->cryptoStartSrcOffsetInBytes, buf, n);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, ok = c && EVP_CipherInit_ex(c, cipher_of(s->cipher, s->key_len), NULL, s->key,
                                              s->cipher == CPA_CY_SYM_CIPHER_AES_ECB ? NULL : op->pIv,
                                              s->direction == CPA_CY_SYM_CIPHER_DIRECTION_ENCRYPT) == 1;
    if (ok) EVP_CIPHER_CTX_set_padding(c, 0);
    ok = ok && EVP_CipherUpdate(c, buf, &outl, buf, (int)n) == 1 && (Cpa32U)outl == n;
    EVP_CIPHER_CTX_free(c);
    if (ok) sim_list_write(dst, op->cryptoStartSrcOffsetInBytes, buf, n);
    free(buf);
    return ok ? 0 : -1;
}

/* Returns -1 on error, else 1 when the digest verified (or was written), 0 when verification failed. */
static int run_hash(cy_session *s, const CpaCySymOpData *op, CpaBufferList *dst) {
    Cpa32U n = op->messageLenToHashInBytes;
    uint8_t *buf = malloc(n ? n : 1), md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!buf) return -1;
    sim_list_read(dst, op->hashStartSrcOffsetInBytes, buf, n);
    int ok = s->hash_mode == CPA_CY_SYM_HASH_MODE_AUTH
                 ? HMAC(md_of(s->hash), s->auth_key, (int)s->auth_len, buf, n, md, &mdlen) != NULL
                 : EVP_Digest(buf, n, md, &mdlen, md_of(s->hash), NULL) == 1;
    free(buf);
    if (!ok) return -1;
    uint8_t have[EVP_MAX_MD_SIZE];
    uint64_t at = (uint64_t)op->hashStartSrcOffsetInBytes + n;
    if (s->verify) {
        if (s->appended) sim_list_read(dst, at, have, s->digest_len);
        else memcpy(have, op->pDigestResult, s->digest_len);
        return memcmp(have, md, s->digest_len) == 0;
    }
    if (s->appended) sim_list_write(dst, at, md, s->digest_len);
    else memcpy(op->pDigestResult, md, s->digest_len);
    return 1;
}

static void work(sim_instance *inst, sim_req *req) {
    (void)inst;
    const CpaCySymOpData *op = (const CpaCySymOpData *)req->op_data;
    cy_session *s = (cy_session *)op->sessionCtx;
    CpaStatus status = CPA_STATUS_SUCCESS;
    int verified = 1;
    if (req->src != req->dst) {
        uint64_t n = sim_list_len(req->src);
        uint8_t *tmp = malloc(n ? n : 1);
        if (!tmp) status = CPA_STATUS_RESOURCE;
        else { sim_list_read(req->src, 0, tmp, n); sim_list_write(req->dst, 0, tmp, n); free(tmp); }
    }
    if (status == CPA_STATUS_SUCCESS) {
        int hash_first = s->op == CPA_CY_SYM_OP_ALGORITHM_CHAINING && s->chain_order == 1;
        if (s->op == CPA_CY_SYM_OP_HASH || hash_first) {
            verified = run_hash(s, op, req->dst);
            if (verified < 0) status = CPA_STATUS_FAIL;
        }
        if (status == CPA_STATUS_SUCCESS && s->op != CPA_CY_SYM_OP_HASH && run_cipher(s, op, req->dst) != 0)
            status = CPA_STATUS_FAIL;
        if (status == CPA_STATUS_SUCCESS && s->op == CPA_CY_SYM_OP_ALGORITHM_CHAINING && !hash_first) {
            verified = run_hash(s, op, req->dst);
            if (verified < 0) status = CPA_STATUS_FAIL;
        }
    }
    CpaBoolean vr = verified > 0 ? CPA_TRUE : CPA_FALSE;
    if (s->cb) s->cb(req->tag, status, s->op, (void *)op, req->dst, vr);
    else {
        ((CpaStatus *)req->tag)[0] = status;
        ((CpaStatus *)req->tag)[1] = vr;
    }
}

SIM_EXPORT CpaStatus cpaCySymPerformOp(CpaInstanceHandle h, void *tag, const CpaCySymOpData *op,
                                       const CpaBufferList *src, CpaBufferList *dst, CpaBoolean *verify_result) {
    sim_instance *inst = sim_lookup(h, SIM_CY);
    if (!inst || !op) return CPA_STATUS_INVALID_PARAM;
    cy_session *s = session_of(op->sessionCtx);
    if (!s || s->inst != inst) return CPA_STATUS_INVALID_PARAM;
    if (op->packetType != CPA_CY_SYM_PACKET_TYPE_FULL) return CPA_STATUS_UNSUPPORTED;
    if (!sim_list_ok(inst, src) || !sim_list_ok(inst, dst)) return CPA_STATUS_INVALID_PARAM;
    uint64_t src_len = sim_list_len(src);
    if (sim_list_len(dst) < src_len) return CPA_STATUS_INVALID_PARAM;
    if (s->op != CPA_CY_SYM_OP_HASH) {
        int block = s->cipher == CPA_CY_SYM_CIPHER_AES_CTR ? 1 : 16;
        if ((uint64_t)op->cryptoStartSrcOffsetInBytes + op->messageLenToCipherInBytes > src_len) return CPA_STATUS_INVALID_PARAM;
        if (op->messageLenToCipherInBytes % block) return CPA_STATUS_INVALID_PARAM;
        if (s->cipher != CPA_CY_SYM_CIPHER_AES_ECB &&
            (op->ivLenInBytes != 16 || !op->pIv || !sim_usdm_contains(op->pIv, 16))) return CPA_STATUS_INVALID_PARAM;
    }
    if (s->op != CPA_CY_SYM_OP_CIPHER) {
        uint64_t end = (uint64_t)op->hashStartSrcOffsetInBytes + op->messageLenToHashInBytes;
        if (end > src_len) return CPA_STATUS_INVALID_PARAM;
        if (s->appended && end + s->digest_len > sim_list_len(dst)) return CPA_STATUS_INVALID_PARAM;
        if (!s->appended && (!op->pDigestResult || !sim_usdm_contains(op->pDigestResult, s->digest_len)))
            return CPA_STATUS_INVALID_PARAM;
    }
    sim_req req = {REQ_SYM, s, src, dst, (void *)op, NULL, tag};
    if (!s->cb) {
        CpaStatus st[2] = {CPA_STATUS_SUCCESS, CPA_TRUE};
        if (!inst->started) return CPA_STATUS_FAIL;
        req.tag = st;
        work(inst, &req);
        if (verify_result) *verify_result = st[1] ? CPA_TRUE : CPA_FALSE;
        return st[0];
    }
    return sim_ring_submit(inst, &req);
}

SIM_EXPORT CpaStatus icp_sal_CyPollInstance(CpaInstanceHandle h, Cpa32U quota) {
    sim_instance *inst = sim_lookup(h, SIM_CY);
    if (!inst) return CPA_STATUS_INVALID_PARAM;
    return sim_ring_poll(inst, quota, work);
}
