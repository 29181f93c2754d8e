/* Bench load generator in C: libqat-style handshakes over N connections, idle connections, and exec-to-accepting timing. */

/*
 * loadgen run SOCKET CLIENTS SECONDS [SERVER_PID [REFUSED_BACKOFF_US]]
 *     CLIENTS threads, each looping: connect -> SECTION_GET -> NUM_DEVICES -> per device DEVICE_INFO, DEVICE_ID,
 *     VFIO_FILE, INSTANCE_NAME + INSTANCE_INFO per CY/DC/DECOMP instance -> NUM_PF_DEVS -> PF_DEV_INFO per PF ->
 *     SECTION_PUT -> close; one request in flight. A refused SECTION_GET ("No section available") closes, waits
 *     REFUSED_BACKOFF_US (default 1000; a refused libqat process gives up, it does not spin) and tries again
 *     (counted as refused). Prints one JSON line: handshakes/s, p50/p99 ms, own and server CPU, and doubleGrants:
 *     how often a thread was granted a section another thread still held (SSL_INT_<n>, n < 4096; must stay 0).
 * loadgen idle SOCKET N
 *     opens N connections, each sends NUM_PF_DEVS once (so the first-request timeout does not fire), prints
 *     "ready N" and holds them until stdin closes.
 * loadgen ready SOCKET CMD ARGS...
 *     exec CMD, poll-connect SOCKET every 0.2 ms, print the ms from fork to the first accepted connect, SIGTERM CMD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION 0x1a08
#define WARMUP_S 0.4

static const char *sock_path;
#define MAX_SECTIONS 4096
/* who holds SSL_INT_<n> among our threads: 0 = nobody, else thread id + 1 */
static _Atomic int holder_of[MAX_SECTIONS];
static _Atomic unsigned long long double_grants;
static _Thread_local int my_id;
static long refused_backoff_us = 1000;
static volatile int stop_flag;
static double t_warm, t_end;

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int connect_sock(void) {
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) return -1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strncpy(a.sun_path, sock_path, sizeof a.sun_path - 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
	return fd;
}

static void hdr(uint8_t *b, uint16_t len, uint16_t type) {
	memcpy(b, &len, 2);
	uint16_t v = VERSION; memcpy(b + 2, &v, 2);
	memcpy(b + 4, &type, 2);
	memset(b + 6, 0, 2);
}

/* send one request, read one whole reply into rep; returns reply type or -1 */
static int call(int fd, const uint8_t *req, size_t n, uint8_t *rep) {
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, req + off, n - off);
		if (w < 0) { if (errno == EINTR) continue; return -1; }
		off += (size_t)w;
	}
	size_t have = 0;
	uint16_t len = 0;
	for (;;) {
		ssize_t r = read(fd, rep + have, 512 - have);
		if (r < 0) { if (errno == EINTR) continue; return -1; }
		if (r == 0) return -1;
		have += (size_t)r;
		if (have >= 2) {
			memcpy(&len, rep, 2);
			if (len < 8 || len > 512) return -1;
			if (have >= len) break;
		}
	}
	uint16_t type;
	memcpy(&type, rep + 4, 2);
	return type;
}

static int dev_req(int fd, uint16_t type, uint16_t d, uint8_t *rep) {
	uint8_t q[10];
	hdr(q, 10, type);
	memcpy(q + 8, &d, 2);
	return call(fd, q, 10, rep) == type ? 0 : -1;
}

static int inst_req(int fd, uint16_t type, uint32_t itype, uint16_t num, uint16_t d, uint8_t *rep) {
	uint8_t q[16];
	hdr(q, 16, type);
	memcpy(q + 8, &itype, 4);
	memcpy(q + 12, &num, 2);
	memcpy(q + 14, &d, 2);
	return call(fd, q, 16, rep) == type ? 0 : -1;
}

/* 0 = done, 1 = refused, -1 = error */
static int handshake(void) {
	uint8_t q[64], rep[512];
	int fd = connect_sock();
	if (fd < 0) return -1;
	const char *pname = "loadgen";
	size_t nl = strlen(pname) + 1;
	hdr(q, (uint16_t)(8 + nl), 1);
	memcpy(q + 8, pname, nl);
	int t = call(fd, q, 8 + nl, rep);
	if (t == 999) { close(fd); return 1; }
	if (t != 1) goto fail;
	char section[300];
	uint16_t rl; memcpy(&rl, rep, 2);
	size_t sl = strnlen((char *)rep + 8, rl - 8);
	memcpy(section, rep + 8, sl);
	section[sl] = 0;
	int sec = -1;
	if (sscanf(section, "SSL_INT_%d", &sec) == 1 && sec >= 0 && sec < MAX_SECTIONS) {
		int expect = 0;
		if (!atomic_compare_exchange_strong(&holder_of[sec], &expect, my_id + 1)) atomic_fetch_add(&double_grants, 1);
	} else sec = -1;
	hdr(q, 8, 3);
	if (call(fd, q, 8, rep) != 3) goto fail;
	uint16_t ndev; memcpy(&ndev, rep + 8, 2);
	for (uint16_t d = 0; d < ndev; d++) {
		if (dev_req(fd, 4, d, rep)) goto fail;
		uint16_t ncy, ndc, ndecomp;
		memcpy(&ncy, rep + 54, 2);
		memcpy(&ndc, rep + 60, 2);
		memcpy(&ndecomp, rep + 62, 2);
		if (dev_req(fd, 5, d, rep) || dev_req(fd, 9, d, rep)) goto fail;
		struct { uint32_t type; uint16_t n; } kinds[3] = { { 6, ncy }, { 1, ndc }, { 16, ndecomp } };
		for (int k = 0; k < 3; k++)
			for (uint16_t i = 0; i < kinds[k].n; i++)
				if (inst_req(fd, 8, kinds[k].type, i, d, rep) || inst_req(fd, 7, kinds[k].type, i, d, rep)) goto fail;
	}
	hdr(q, 8, 10);
	if (call(fd, q, 8, rep) != 10) goto fail;
	uint16_t npf; memcpy(&npf, rep + 8, 2);
	for (uint16_t p = 0; p < npf; p++) if (dev_req(fd, 11, p, rep)) goto fail;
	/* given up before SECTION_PUT is sent: after it, the daemon may grant the section to another thread at once */
	if (sec >= 0) { atomic_store(&holder_of[sec], 0); sec = -1; }
	hdr(q, (uint16_t)(8 + sl + 1), 2);
	memcpy(q + 8, section, sl + 1);
	if (call(fd, q, 8 + sl + 1, rep) != 2) goto fail;
	close(fd);
	return 0;
fail:
	/* the close releases the section (upstream semantics): ours no longer */
	if (sec >= 0) atomic_store(&holder_of[sec], 0);
	close(fd);
	return -1;
}

typedef struct {
	double *lat;
	size_t n, cap;
	uint64_t ok, refused, errors;
	int id;
} stats_t;

static void *client(void *arg) {
	stats_t *s = arg;
	my_id = s->id;
	while (!stop_flag) {
		double t0 = now();
		int r = handshake();
		double t1 = now();
		if (t0 < t_warm || t1 > t_end) { if (r == 1 && refused_backoff_us > 0) usleep((useconds_t)refused_backoff_us); continue; }
		if (r == 0) {
			s->ok++;
			if (s->n == s->cap) { s->cap = s->cap ? s->cap * 2 : 4096; s->lat = realloc(s->lat, s->cap * sizeof *s->lat); }
			s->lat[s->n++] = (t1 - t0) * 1e3;
		} else if (r == 1) {
			s->refused++;
			if (refused_backoff_us > 0) usleep((useconds_t)refused_backoff_us);
		}
		else { s->errors++; usleep(1000); }
	}
	return NULL;
}

static int cmpd(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double proc_cpu_s(int pid) {
	if (pid <= 0) return 0;
	char p[64], buf[1024];
	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	if (!f) return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *c = strrchr(buf, ')');
	if (!c) return 0;
	unsigned long ut = 0, st = 0;
	/* after ")": state(3) ... utime is field 14, stime 15 */
	if (sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void raise_nofile(void) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
}

static int run(int clients, double secs, int pid) {
	pthread_t *th = calloc((size_t)clients, sizeof *th);
	stats_t *st = calloc((size_t)clients, sizeof *st);
	double t0 = now();
	t_warm = t0 + WARMUP_S;
	t_end = t_warm + secs;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < clients; i++) { st[i].id = i; pthread_create(&th[i], &attr, client, &st[i]); }
	struct timespec w = { (time_t)WARMUP_S, (long)((WARMUP_S - (int)WARMUP_S) * 1e9) };
	nanosleep(&w, NULL);
	double c0 = self_cpu_s(), d0 = proc_cpu_s(pid), w0 = now();
	double rest = t_end - now();
	if (rest > 0) { struct timespec r = { (time_t)rest, (long)((rest - (int)rest) * 1e9) }; nanosleep(&r, NULL); }
	double c1 = self_cpu_s(), d1 = proc_cpu_s(pid), w1 = now();
	stop_flag = 1;
	for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
	size_t total = 0;
	uint64_t ok = 0, refused = 0, errors = 0;
	for (int i = 0; i < clients; i++) { total += st[i].n; ok += st[i].ok; refused += st[i].refused; errors += st[i].errors; }
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < clients; i++) { memcpy(all + k, st[i].lat, st[i].n * sizeof *all); k += st[i].n; }
	qsort(all, total, sizeof *all, cmpd);
	double p50 = total ? all[(size_t)(0.50 * (double)(total - 1))] : 0;
	double p99 = total ? all[(size_t)(0.99 * (double)(total - 1))] : 0;
	double wall = w1 - w0;
	printf("{\"clients\":%d,\"seconds\":%.3f,\"handshakes\":%llu,\"refused\":%llu,\"errors\":%llu,"
	       "\"handshakesPerSec\":%.1f,\"refusedPerSec\":%.1f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,"
	       "\"loadgenCpuPct\":%.1f,\"serverCpuPct\":%.1f,\"serverCpuUsPerHandshake\":%.0f,\"doubleGrants\":%llu}\n",
	       clients, secs, (unsigned long long)ok, (unsigned long long)refused, (unsigned long long)errors,
	       (double)ok / secs, (double)refused / secs, p50, p99,
	       100.0 * (c1 - c0) / wall, pid > 0 ? 100.0 * (d1 - d0) / wall : -1.0,
	       pid > 0 && ok ? 1e6 * (d1 - d0) / (double)ok : -1.0, (unsigned long long)atomic_load(&double_grants));
	return 0;
}

static int idle(int n) {
	raise_nofile();
	int *fds = calloc((size_t)n, sizeof *fds);
	uint8_t q[8], rep[512];
	hdr(q, 8, 10);
	for (int i = 0; i < n; i++) {
		fds[i] = connect_sock();
		if (fds[i] < 0) { fprintf(stderr, "loadgen: connect %d: %s\n", i, strerror(errno)); return 1; }
		if (call(fds[i], q, 8, rep) != 10) { fprintf(stderr, "loadgen: connection %d got no NUM_PF_DEVS reply\n", i); return 1; }
	}
	printf("ready %d\n", n);
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof b) > 0) { }
	for (int i = 0; i < n; i++) close(fds[i]);
	return 0;
}

static int ready(char **cmd) {
	unlink(sock_path);
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) { dup2(devnull, 1); dup2(devnull, 2); }
		execvp(cmd[0], cmd);
		_exit(127);
	}
	double t1 = 0, cpu = 0;
	int fd = -1;
	for (;;) {
		fd = connect_sock();
		if (fd >= 0) { t1 = now(); cpu = proc_cpu_s(pid); break; }
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) { fprintf(stderr, "loadgen: server exited before accepting\n"); return 1; }
		if (now() - t0 > 30) { fprintf(stderr, "loadgen: server not accepting after 30 s\n"); kill(pid, SIGKILL); return 1; }
		usleep(200);
	}
	/* the first answer: NUM_PF_DEVS needs no section */
	uint8_t q[8], rep[512];
	hdr(q, 8, 10);
	int t = call(fd, q, 8, rep);
	double t2 = now();
	close(fd);
	printf("{\"readyMs\":%.1f,\"firstReplyMs\":%.1f,\"cpuMsAtReady\":%.0f,\"replyOk\":%s}\n", (t1 - t0) * 1e3, (t2 - t0) * 1e3, cpu * 1e3, t == 10 ? "true" : "false");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv) {
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 5 && strcmp(argv[1], "run") == 0) {
		sock_path = argv[2];
		if (argc > 6) refused_backoff_us = atol(argv[6]);
		return run(atoi(argv[3]), atof(argv[4]), argc > 5 ? atoi(argv[5]) : 0);
	}
	if (argc == 4 && strcmp(argv[1], "idle") == 0) { sock_path = argv[2]; return idle(atoi(argv[3])); }
	if (argc >= 4 && strcmp(argv[1], "ready") == 0) { sock_path = argv[2]; return ready(argv + 3); }
	fprintf(stderr, "usage: loadgen run SOCKET CLIENTS SECONDS [SERVER_PID] | idle SOCKET N | ready SOCKET CMD ARGS...\n");
	return 2;
}
