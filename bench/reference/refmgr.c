/* Bench-only C reference server with upstream qatmgr's model (thread per connection, blocking I/O), answering from our reply table. */

/*
 * Model, as described in qatmgr-behaviour.md §12 and qatmgr-protocol.md §11:
 *   main thread: blocking accept(); one detached thread per connection;
 *   per connection: blocking read() of the next request, answer with one write() per request;
 *   SECTION_GET: first-fit over the section table under a mutex; SECTION_PUT and EOF release.
 * The replies come from a file written by bench/replytable.ts (our encoder), so both servers send the same bytes.
 *
 * usage: refmgr SOCKET REPLY_TABLE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct { uint16_t len; uint8_t *b; } blob_t;
typedef struct { blob_t req, rep; int section; } entry_t;
typedef struct { blob_t get, name; uintptr_t owner; } section_t;

static section_t *sections;
static uint32_t nsections;
static blob_t no_section, put_ok, fallback_bad;
static entry_t **table; /* open addressing on (section, request bytes) */
static size_t table_size;
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;

static uint8_t *file_data;
static size_t file_len, file_off;

static void die(const char *m) { perror(m); exit(1); }

static uint32_t rd32(void) {
	uint32_t v;
	if (file_off + 4 > file_len) { fprintf(stderr, "refmgr: truncated table\n"); exit(1); }
	memcpy(&v, file_data + file_off, 4);
	file_off += 4;
	return v;
}

static blob_t rdblob(void) {
	blob_t b;
	uint16_t l;
	if (file_off + 2 > file_len) { fprintf(stderr, "refmgr: truncated table\n"); exit(1); }
	memcpy(&l, file_data + file_off, 2);
	file_off += 2;
	if (file_off + l > file_len) { fprintf(stderr, "refmgr: truncated table\n"); exit(1); }
	b.len = l;
	b.b = file_data + file_off;
	file_off += l;
	return b;
}

static uint64_t hash(int section, const uint8_t *p, size_t n) {
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(section + 7);
	for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
	return h;
}

static void put_entry(entry_t *e) {
	size_t i = hash(e->section, e->req.b, e->req.len) & (table_size - 1);
	while (table[i]) i = (i + 1) & (table_size - 1);
	table[i] = e;
}

static const entry_t *find(int section, const uint8_t *p, size_t n) {
	size_t i = hash(section, p, n) & (table_size - 1);
	while (table[i]) {
		const entry_t *e = table[i];
		if (e->section == section && e->req.len == n && memcmp(e->req.b, p, n) == 0) return e;
		i = (i + 1) & (table_size - 1);
	}
	return NULL;
}

static void load(const char *path) {
	FILE *f = fopen(path, "rb");
	if (!f) die(path);
	fseek(f, 0, SEEK_END);
	file_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	file_data = malloc(file_len);
	if (fread(file_data, 1, file_len, f) != file_len) die("read table");
	fclose(f);
	if (file_len < 8 || memcmp(file_data, "QRT1", 4) != 0) { fprintf(stderr, "refmgr: %s is not a reply table\n", path); exit(1); }
	file_off = 4;
	nsections = rd32();
	no_section = rdblob();
	put_ok = rdblob();
	fallback_bad = rdblob();
	/* two passes: count entries, then fill */
	size_t start = file_off, count = 0;
	for (int pass = 0; pass < 2; pass++) {
		file_off = start;
		size_t k = 0;
		uint32_t g = rd32();
		for (uint32_t i = 0; i < g; i++) {
			entry_t e = { rdblob(), rdblob(), -1 };
			if (pass) { entry_t *p = malloc(sizeof *p); *p = e; put_entry(p); }
			k++;
		}
		for (uint32_t s = 0; s < nsections; s++) {
			blob_t get = rdblob(), name = rdblob();
			if (pass) { sections[s].get = get; sections[s].name = name; sections[s].owner = 0; }
			uint32_t n = rd32();
			for (uint32_t i = 0; i < n; i++) {
				entry_t e = { rdblob(), rdblob(), (int)s };
				if (pass) { entry_t *p = malloc(sizeof *p); *p = e; put_entry(p); }
				k++;
			}
		}
		if (!pass) {
			count = k;
			table_size = 16;
			while (table_size < count * 4) table_size <<= 1;
			table = calloc(table_size, sizeof *table);
			sections = calloc(nsections ? nsections : 1, sizeof *sections);
		}
	}
}

static int write_all(int fd, const uint8_t *p, size_t n) {
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) { if (errno == EINTR) continue; return -1; }
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *serve(void *arg) {
	int fd = (int)(intptr_t)arg;
	uintptr_t me = (uintptr_t)pthread_self();
	int held = -1;
	uint8_t buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof buf - have);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		have += (size_t)r;
		size_t off = 0;
		int bad_frame = 0;
		while (have - off >= 2) {
			uint16_t len;
			memcpy(&len, buf + off, 2);
			if (len < 8 || len > 264) { bad_frame = 1; break; }
			if (have - off < len) break;
			const uint8_t *q = buf + off;
			uint16_t type;
			memcpy(&type, q + 4, 2);
			const uint8_t *rep = fallback_bad.b;
			size_t replen = fallback_bad.len;
			if (type == 1) { /* SECTION_GET: first fit */
				int got = -1;
				if (held < 0) {
					pthread_mutex_lock(&alloc_lock);
					for (uint32_t s = 0; s < nsections; s++) {
						if (sections[s].owner == 0) { sections[s].owner = me; got = (int)s; break; }
					}
					pthread_mutex_unlock(&alloc_lock);
				}
				if (got >= 0) { held = got; rep = sections[got].get.b; replen = sections[got].get.len; }
				else { rep = no_section.b; replen = no_section.len; }
			} else if (type == 2) { /* SECTION_PUT */
				if (held >= 0 && len >= 8 + sections[held].name.len &&
				    memcmp(q + 8, sections[held].name.b, sections[held].name.len) == 0) {
					sections[held].owner = 0;
					held = -1;
					rep = put_ok.b;
					replen = put_ok.len;
				}
			} else {
				const entry_t *e = find(-1, q, len);
				if (!e && held >= 0) e = find(held, q, len);
				if (e) { rep = e->rep.b; replen = e->rep.len; }
			}
			if (write_all(fd, rep, replen) < 0) { bad_frame = 1; break; }
			off += len;
		}
		if (bad_frame) break;
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (held >= 0) sections[held].owner = 0; /* release on EOF, like upstream (no lock) */
	close(fd);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 3) { fprintf(stderr, "usage: refmgr SOCKET REPLY_TABLE\n"); return 2; }
	signal(SIGPIPE, SIG_IGN);
	load(argv[2]);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0) die("socket");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
	unlink(argv[1]);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
	if (listen(ls, 511) < 0) die("listen");
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) { if (errno != EINTR) perror("accept"); continue; }
		pthread_t t;
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)c) != 0) { perror("pthread_create"); close(c); }
	}
}
