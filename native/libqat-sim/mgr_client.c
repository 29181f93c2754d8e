/* The qatmgr conversation libqat has at icp_sal_userStart/Stop (protocol spec §11), over the daemon's Unix socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "sim.h"

#define MGR_VERSION 0x1A08 /* qatlib 26.08: (26 << 8) + 8 */
#define MGR_DEFAULT_SOCKET "/run/qat/qatmgr.sock"
#define MSG_SECTION_GET 1
#define MSG_SECTION_PUT 2
#define MSG_NUM_DEVICES 3
#define MSG_DEVICE_INFO 4
#define MSG_DEVICE_ID 5
#define MSG_INSTANCE_INFO 7
#define MSG_INSTANCE_NAME 8
#define MSG_VFIO_FILE 9
#define MSG_BAD 999
#define REQ_SIZE 264
#define RSP_SIZE 268
#define SERV_DC 1
#define SERV_CY 6

static int mgr_fd = -1;
static char section[256];
static pthread_mutex_t mgr_lock = PTHREAD_MUTEX_INITIALIZER;

static void put16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p) { return get16(p) | ((uint32_t)get16(p + 2) << 16); }

static const char *socket_path(void) {
    const char *env = getenv("QATMGR_SOCKET");
    return env && *env ? env : MGR_DEFAULT_SOCKET;
}

/* One request, one response: write the request in one piece, read until the announced length arrived. */
static int query(uint16_t type, const uint8_t *payload, uint16_t plen, uint8_t *rsp, uint16_t min_len) {
    uint8_t req[REQ_SIZE];
    memset(req, 0, sizeof req);
    put16(req, (uint16_t)(8 + plen));
    put16(req + 2, MGR_VERSION);
    put16(req + 4, type);
    if (plen) memcpy(req + 8, payload, plen);
    ssize_t w = write(mgr_fd, req, 8 + plen);
    if (w != 8 + plen) {
        fprintf(stderr, "libqat-sim: write to qatmgr failed: %s\n", strerror(errno));
        return -1;
    }
    size_t got = 0, want = 8;
    memset(rsp, 0, RSP_SIZE);
    while (got < want) {
        ssize_t r = read(mgr_fd, rsp + got, RSP_SIZE - got);
        if (r <= 0) {
            fprintf(stderr, "libqat-sim: qatmgr closed the connection\n");
            return -1;
        }
        got += (size_t)r;
        if (got >= 8) {
            want = get16(rsp);
            if (want < 8 || want > RSP_SIZE) {
                fprintf(stderr, "libqat-sim: bad response length %zu from qatmgr\n", want);
                return -1;
            }
        }
    }
    if (get16(rsp + 2) != MGR_VERSION) {
        fprintf(stderr, "libqat-sim: this qatlib v%d.%d received a response from incompatible qatmgr v%d.%d\n",
                MGR_VERSION >> 8, MGR_VERSION & 0xff, rsp[3], rsp[2]);
        return -1;
    }
    if (get16(rsp + 4) == MSG_BAD) {
        rsp[RSP_SIZE - 1] = 0;
        fprintf(stderr, "libqat-sim: qatmgr answered message %u with error: %s\n", type, (char *)rsp + 8);
        return -1;
    }
    if (get16(rsp + 4) != type || got < min_len) {
        fprintf(stderr, "libqat-sim: unexpected response type %u (%zu bytes) to message %u\n",
                get16(rsp + 4), got, type);
        return -1;
    }
    return 0;
}

static int query_dev(uint16_t type, uint16_t dev, uint8_t *rsp, uint16_t min_len) {
    uint8_t p[2];
    put16(p, dev);
    return query(type, p, 2, rsp, min_len);
}

static int query_inst(uint16_t type, uint32_t serv, uint16_t num, uint16_t dev, uint8_t *rsp, uint16_t min_len) {
    uint8_t p[8];
    put32(p, serv);
    put16(p + 4, num);
    put16(p + 6, dev);
    return query(type, p, 8, rsp, min_len);
}

static uint16_t parse_bdf16(const char *s) {
    unsigned dom, bus, dev, fn;
    if (sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) return 0;
    return (uint16_t)((bus << 8) | (dev << 3) | fn);
}

static int add_instances(uint16_t d, uint32_t serv, uint16_t count, const sim_instance *dev_proto) {
    uint8_t rsp[RSP_SIZE];
    for (uint16_t k = 0; k < count; k++) {
        sim_instance inst = *dev_proto;
        inst.kind = serv == SERV_DC ? SIM_DC : SIM_CY;
        if (query_inst(MSG_INSTANCE_INFO, serv, k, d, rsp, 40) != 0) return -1;
        /* the dc ring_info and the cy.sym ring_info both sit at offset 8 */
        inst.accelid = get16(rsp + 8);
        inst.bank = get16(rsp + 10);
        inst.polled = serv == SERV_CY ? (int)get32(rsp + 36) : get16(rsp + 12);
        inst.core = get16(rsp + 14);
        inst.ring_size = get16(rsp + 16);
        if (inst.ring_size == 0) inst.ring_size = 512;
        if (query_inst(MSG_INSTANCE_NAME, serv, k, d, rsp, 9) != 0) return -1;
        snprintf(inst.name, sizeof inst.name, "%.63s", (char *)rsp + 8);
        if (sim_add_instance(&inst) != 0) return -1;
    }
    return 0;
}

static int enumerate(void) {
    uint8_t rsp[RSP_SIZE];
    if (query(MSG_NUM_DEVICES, NULL, 0, rsp, 10) != 0) return -1;
    uint16_t ndev = get16(rsp + 8);
    for (uint16_t d = 0; d < ndev; d++) {
        sim_instance proto;
        memset(&proto, 0, sizeof proto);
        if (query_dev(MSG_DEVICE_ID, d, rsp, 9) != 0) return -1;
        if (query_dev(MSG_DEVICE_INFO, d, rsp, 128) != 0) return -1;
        uint16_t num_cy = get16(rsp + 54), num_dc = get16(rsp + 60);
        proto.pkg_id = get16(rsp + 50);
        proto.node = get16(rsp + 52);
        snprintf(proto.device_name, sizeof proto.device_name, "%.63s", (char *)rsp + 64);
        if (strlen(proto.device_name) >= 17) {
            fprintf(stderr, "libqat-sim: device name too long: %s\n", proto.device_name);
            return -1;
        }
        if (query_dev(MSG_DEVICE_ID, d, rsp, 9) != 0) return -1;
        snprintf(proto.bdf, sizeof proto.bdf, "%.31s", (char *)rsp + 8);
        proto.bdf16 = parse_bdf16(proto.bdf);
        if (query_dev(MSG_VFIO_FILE, d, rsp, 11) != 0) return -1;
        if (add_instances(d, SERV_CY, num_cy, &proto) != 0) return -1;
        if (add_instances(d, SERV_DC, num_dc, &proto) != 0) return -1;
    }
    return 0;
}

CpaStatus sim_mgr_start(const char *name) {
    if (!name || strlen(name) == 0 || strlen(name) > 127) {
        fprintf(stderr, "libqat-sim: process name must be 1..127 characters\n");
        return CPA_STATUS_FAIL;
    }
    pthread_mutex_lock(&mgr_lock);
    const char *path = socket_path();
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "libqat-sim: socket path too long: %s\n", path);
        pthread_mutex_unlock(&mgr_lock);
        return CPA_STATUS_FAIL;
    }
    strcpy(addr.sun_path, path);
    mgr_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (mgr_fd < 0 || connect(mgr_fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "libqat-sim: cannot connect to qatmgr at %s: %s\n", path, strerror(errno));
        if (mgr_fd >= 0) close(mgr_fd);
        mgr_fd = -1;
        pthread_mutex_unlock(&mgr_lock);
        return CPA_STATUS_FAIL;
    }
    uint8_t rsp[RSP_SIZE];
    if (query(MSG_SECTION_GET, (const uint8_t *)name, (uint16_t)(strlen(name) + 1), rsp, 9) != 0) {
        close(mgr_fd);
        mgr_fd = -1;
        pthread_mutex_unlock(&mgr_lock);
        return CPA_STATUS_FAIL;
    }
    snprintf(section, sizeof section, "%.255s", (char *)rsp + 8);
    if (enumerate() != 0) {
        sim_clear_instances();
        close(mgr_fd); /* the daemon frees the section on EOF */
        mgr_fd = -1;
        pthread_mutex_unlock(&mgr_lock);
        return CPA_STATUS_FAIL;
    }
    pthread_mutex_unlock(&mgr_lock);
    return CPA_STATUS_SUCCESS;
}

CpaStatus sim_mgr_stop(void) {
    pthread_mutex_lock(&mgr_lock);
    if (mgr_fd < 0) {
        pthread_mutex_unlock(&mgr_lock);
        return CPA_STATUS_FAIL;
    }
    uint8_t rsp[RSP_SIZE];
    if (query(MSG_SECTION_PUT, (const uint8_t *)section, (uint16_t)(strlen(section) + 1), rsp, 8) != 0)
        fprintf(stderr, "libqat-sim: SECTION_PUT %s failed; closing anyway\n", section);
    close(mgr_fd);
    mgr_fd = -1;
    section[0] = 0;
    pthread_mutex_unlock(&mgr_lock);
    return CPA_STATUS_SUCCESS;
}
