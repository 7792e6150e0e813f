/* SPDX-License-Identifier: MIT */
/*
 * memory: vfpoold's footprint at 65,536 VFs (4 PFs x 16,384) with 256 connected clients
 * (the default --max-clients), each with the library's default ring: its resident set
 * (VmRSS, and the part of it that is shared memory, RssShmem) and the shared memory it has
 * mapped (the memfd segments: the state segment and one ring per client; and the lease
 * journal's mapping on tmpfs). Printed with the results as a row whose note carries the
 * figures; run once, not per round (a footprint, not a ratio).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfpool/vfpool.h>

#include "bench/bench.h"
#include "bench/daemon.h"
#include "bench/scenario.h"
#include "shm/control_proto.h"

#define MEM_SPEC    "4x16384"
#define MEM_CLIENTS 256

/* A "Name:   N kB" line of /proc/pid/status, in bytes; 0 if absent. */
static uint64_t status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 10) * 1024;
	fclose(f);
	return v;
}

/* Bytes of the process's shared file mappings whose name contains what. */
static uint64_t mapped(pid_t pid, const char *what, unsigned *ret_n)
{
	char path[64], line[512];
	uint64_t sum = 0;
	FILE *f;

	*ret_n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];

		if (!strstr(line, what) || sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[3] != 's')
			continue;
		sum += hi - lo;
		(*ret_n)++;
	}
	fclose(f);
	return sum;
}

void bench_memory(const struct bench_opts *o)
{
	static const char *const extra[] = { "--max-clients", "256", NULL };
	struct bench_result r = { .name = "memory" };
	struct vfpool **h = calloc(MEM_CLIENTS, sizeof(*h));
	struct bench_daemon d;
	uint64_t rss, shmem, rings, state, journal;
	unsigned n_rings, n_state, n_journal;
	char note[400], state_path[128];
	size_t n = 0;

	(void)o;
	if (!h) {
		bench_error("memory: out of memory");
		return;
	}
	if (bench_daemon_start_ex(&d, MEM_SPEC, 0, -1, extra) != 0)
		goto out;
	for (; n < MEM_CLIENTS; n++) {
		struct vfpool_opts opts = { .sz = sizeof(opts) };
		int err = vfpool_connect(d.run_dir, &opts, &h[n]);

		if (err < 0) {
			bench_error("memory: client %zu of %d: %s", n + 1, MEM_CLIENTS,
				    vfpool_strerror(err));
			break;
		}
	}
	if (n == MEM_CLIENTS) {
		rss = status_kb(d.pid, "VmRSS");
		shmem = status_kb(d.pid, "RssShmem");
		rings = mapped(d.pid, "vfpool-client-", &n_rings);
		snprintf(state_path, sizeof(state_path), "%s/%s", d.run_dir, VFPOOL_STATE_FILE);
		state = mapped(d.pid, state_path, &n_state);
		journal = mapped(d.pid, "leases.journal", &n_journal);
		snprintf(note, sizeof(note),
			 "vfpoold at 65,536 VFs (%s) with %u clients (default rings): RSS %.1f MiB "
			 "(shared memory %.1f MiB of it); shared memory mapped %.1f MiB: state "
			 "segment %.1f MiB, %u rings %.1f MiB, journal %.1f MiB",
			 MEM_SPEC, n_rings, (double)rss / 1048576, (double)shmem / 1048576,
			 (double)(rings + state + journal) / 1048576, (double)state / 1048576,
			 n_rings, (double)rings / 1048576, (double)journal / 1048576);
		r.note = note;
		r.count = (double)rss;
		bench_emit(&r);
		fprintf(stderr, "  %s\n", note);
	}
	while (n > 0)
		vfpool_close(h[--n]);
	bench_daemon_stop(&d);
out:
	free(h);
}
