/* SPDX-License-Identifier: MIT */
/*
 * vfpool-demo-load: what a busy VM launcher does to vfpoold. Threads (one libvfpool handle
 * each) start and stop VMs with two passthrough vNICs each, then one burst of VM starts goes
 * through the batch API, and a few VMs are left running for the snapshot to show.
 * Uses only the public API (include/vfpool/vfpool.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfpool/vfpool.h"

struct worker {
	const char *run_dir;
	int id;
	unsigned vms;      /* start+stop cycles */
	uint64_t *lat_ns;  /* one sample per request */
	size_t n_lat;
	unsigned errors;
	int err;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct vfpool *h;
	char vm[64];

	w->err = vfpool_connect(w->run_dir, NULL, &h);
	if (w->err)
		return NULL;
	for (unsigned i = 0; i < w->vms; i++) {
		static const char *const vnics[] = { "nic0", "nic1" };
		struct vfpool_lease l[2] = { [0 ... 1] = VFPOOL_OPTS(vfpool_lease) };

		snprintf(vm, sizeof(vm), "demo-%d-%u", w->id, i);
		for (int n = 0; n < 2; n++) {
			struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
				.vm_id = vm, .vnic_id = vnics[n],
				.network = n ? "storage" : "tenant", .numa_node = w->id % 2,
				.flags = VFPOOL_ALLOC_NUMA);
			uint64_t t0 = now_ns();
			int r = vfpool_alloc(h, &req, &l[n], NULL, 0);

			w->lat_ns[w->n_lat++] = now_ns() - t0;
			w->errors += r != 0;
		}
		for (int n = 0; n < 2; n++) {
			uint64_t t0 = now_ns();
			int r = vfpool_release(h, vm, vnics[n], l[n].generation, NULL, 0);

			w->lat_ns[w->n_lat++] = now_ns() - t0;
			w->errors += r != 0;
		}
	}
	vfpool_close(h);
	return NULL;
}

/* A launcher starting 32 VMs (64 vNICs) at once through the batch API; they stay up. */
static int burst(const char *run_dir, unsigned vms, double *ret_us)
{
	struct vfpool_completion done[64] = { [0 ... 63] = VFPOOL_OPTS(vfpool_completion) };
	struct vfpool *h;
	char names[32][32];
	unsigned got = 0;
	uint64_t t0;
	int r = vfpool_connect(run_dir, NULL, &h);

	if (r)
		return r;
	t0 = now_ns();
	for (unsigned v = 0; v < vms; v++) {
		snprintf(names[v], sizeof(names[v]), "burst-vm%02u", v);
		for (int n = 0; n < 2; n++) {
			struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
				.vm_id = names[v], .vnic_id = n ? "nic1" : "nic0",
				.network = "tenant", .numa_node = -1);
			r = vfpool_submit_alloc(h, &req, v * 2 + (unsigned)n);
			if (r)
				goto out;
		}
	}
	vfpool_flush(h);
	while (got < vms * 2) {
		r = vfpool_reap(h, done + got, 64 - got, 1, 5000);
		if (r < 0)
			goto out;
		got += (unsigned)r;
	}
	*ret_us = (double)(now_ns() - t0) / 1000.0;
	r = 0;
	for (unsigned i = 0; i < got; i++)
		if (done[i].res)
			r = done[i].res;
out:
	vfpool_close(h);
	return r;
}

int main(int argc, char **argv)
{
	const char *run_dir = argc > 1 ? argv[1] : VFPOOL_DEFAULT_RUN_DIR;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	unsigned vms = argc > 3 ? (unsigned)atoi(argv[3]) : 5000;
	struct worker w[16];
	pthread_t t[16];
	uint64_t *all, t0, elapsed;
	size_t n = 0;
	unsigned errors = 0;
	double burst_us = 0;
	int r;

	if (threads == 0 || threads > 16 || vms == 0) {
		fprintf(stderr, "usage: vfpool-demo-load RUN_DIR [THREADS 1..16] [VMS_PER_THREAD]\n");
		return 2;
	}
	all = calloc((size_t)threads * vms * 4, sizeof(*all));
	if (!all)
		return 1;
	t0 = now_ns();
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){ .run_dir = run_dir, .id = (int)i, .vms = vms,
					.lat_ns = all + (size_t)i * vms * 4 };
		pthread_create(&t[i], NULL, run_worker, &w[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		if (w[i].err) {
			fprintf(stderr, "vfpool-demo-load: %s: %s\n", run_dir, vfpool_strerror(w[i].err));
			return 1;
		}
		n += w[i].n_lat;
		errors += w[i].errors;
	}
	elapsed = now_ns() - t0;
	/* compact the per-thread sample arrays, then sort */
	for (unsigned i = 1, at = (unsigned)w[0].n_lat; i < threads; i++) {
		memmove(all + at, w[i].lat_ns, w[i].n_lat * sizeof(*all));
		at += (unsigned)w[i].n_lat;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	printf("launcher load: %u threads x %u VMs (2 vNICs each), %zu requests in %.2f s\n",
	       threads, vms, n, (double)elapsed / 1e9);
	printf("  rate:    %.0f requests/s\n", (double)n / ((double)elapsed / 1e9));
	printf("  latency: p50 %.1f us, p99 %.1f us, p99.9 %.1f us (alloc or release, round trip)\n",
	       (double)all[n / 2] / 1e3, (double)all[n * 99 / 100] / 1e3,
	       (double)all[n * 999 / 1000] / 1e3);
	printf("  errors:  %u\n", errors);
	r = burst(run_dir, 32, &burst_us);
	if (r) {
		fprintf(stderr, "vfpool-demo-load: burst: %s\n", vfpool_strerror(r));
		return 1;
	}
	printf("burst: 32 VMs (64 vNICs) started in one batch in %.1f us; they stay running\n",
	       burst_us);
	free(all);
	return errors ? 1 : 0;
}
