/* SPDX-License-Identifier: MIT */
/*
 * The daemon scenarios, through libvfpool against a real vfpoold --simulate 4x64:
 *
 *   rtt_poll            polling daemon (pinned to CPU 0) and one polling client (CPU 1):
 *                       alloc+release pairs, one at a time. On 2 CPUs this takes both, so
 *                       polling is only measured with one client.
 *   rtt_poll_idle255    rtt_poll with 255 further clients connected and idle: the cost of
 *                       connections that do nothing.
 *   batch64             same daemon: submit 64 allocations, flush, reap 64; then 64
 *                       releases. Latency is per pair, amortized over the batch.
 *   batch64_2clients    two clients batching at once (both on CPU 1); ops/s summed.
 *   rtt_sleep           sleeping daemon (--spin-us 0: waits for futex doorbells), daemon
 *                       on CPU 0, client on CPU 1 with the library's default spin, ops
 *                       paced SLEEP_GAP_US apart so each one finds the daemon asleep:
 *                       the wakeup path.
 *   rtt_sleep_1cpu      as rtt_sleep with daemon and client on one CPU (compare with
 *                       unix_socket_1cpu).
 *   rtt_sleep_2clients  sleeping daemon, two client threads, not pinned, paced likewise.
 *
 * One op is an alloc+release pair, two round trips, as in the unix_socket baseline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfpool/vfpool.h>

#include "bench/bench.h"
#include "bench/bench_pool.h"
#include "bench/daemon.h"
#include "bench/scenario.h"

#define POLL_SPIN_US  10000000u /* the daemon's maximum: it never sleeps during a run */
#define CLIENT_POLL_SPIN_US 100000u
#define BATCH         64
/* Paced, every op finds a --spin-us 0 daemon asleep; back to back it would mostly still be
 * awake (see rtt_sleep's note). */
#define SLEEP_GAP_US  BENCH_IDLE_GAP_US
#define MAX_CLIENTS   2
#define IDLE_CLIENTS  255 /* with the measuring client: the daemon's default --max-clients */

struct rtt_client {
	const char *run_dir;
	int cpu;               /* index for bench_pin, < 0: not pinned */
	unsigned spin_us;      /* client-side spin before sleeping, 0: library default */
	unsigned gap_us;       /* idle time between ops, so a sleeping daemon falls asleep */
	struct bench_budget bud;
	char vm_id[32];
	uint64_t *samples;
	size_t n;
	uint64_t start_ns, end_ns;
	int err;
	char why[160];
};

static int connect_client(const char *run_dir, unsigned spin_us, struct vfpool **ret)
{
	struct vfpool_opts opts = { .sz = sizeof(opts), .spin_us = spin_us };

	return vfpool_connect(run_dir, &opts, ret);
}

static int alloc_release(struct vfpool *h, const struct vfpool_alloc_req *req, char *why,
			 size_t why_len)
{
	struct vfpool_lease lease = VFPOOL_OPTS(vfpool_lease);
	int r = vfpool_alloc(h, req, &lease, why, why_len);

	if (r < 0)
		return r;
	r = vfpool_release(h, req->vm_id, req->vnic_id, lease.generation, NULL, 0);
	if (r < 0)
		snprintf(why, why_len, "release %s", vfpool_strerror(r));
	return r < 0 ? r : 0;
}

static void *rtt_client_main(void *arg)
{
	struct rtt_client *c = arg;
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = c->vm_id, .vnic_id = "nic0", .network = "default", .numa_node = -1);
	struct vfpool *h = NULL;
	uint64_t deadline;

	if (c->cpu >= 0)
		bench_pin(c->cpu);
	c->err = connect_client(c->run_dir, c->spin_us, &h);
	if (c->err < 0) {
		snprintf(c->why, sizeof(c->why), "connect: %s", vfpool_strerror(c->err));
		return NULL;
	}
	for (size_t i = 0; i < c->bud.ops / 10 && !c->err; i++)
		c->err = alloc_release(h, &req, c->why, sizeof(c->why));
	c->start_ns = bench_now_ns();
	deadline = c->start_ns + c->bud.cap_ns;
	while (c->n < c->bud.ops && !c->err) {
		uint64_t t0 = bench_now_ns();

		c->err = alloc_release(h, &req, c->why, sizeof(c->why));
		c->samples[c->n++] = bench_now_ns() - t0;
		if (c->gap_us)
			usleep(c->gap_us);
		if ((c->n & 255) == 0 && bench_now_ns() > deadline)
			break;
	}
	c->end_ns = bench_now_ns();
	vfpool_close(h);
	return NULL;
}

/* Runs n_clients rtt clients at once; fills r from all their samples. 0 or -1 (said). */
static int run_rtt(const char *name, const char *run_dir, const struct bench_budget *bud,
		   int n_clients, const int *cpus, unsigned client_spin_us, unsigned gap_us,
		   struct bench_result *r)
{
	struct rtt_client cl[MAX_CLIENTS] = { 0 };
	pthread_t th[MAX_CLIENTS];
	uint64_t *all = NULL, first = UINT64_MAX, last = 0;
	size_t total = 0;
	int started = 0, ret = -1;

	for (int i = 0; i < n_clients; i++) {
		cl[i].run_dir = run_dir;
		cl[i].cpu = cpus ? cpus[i] : -1;
		cl[i].spin_us = client_spin_us;
		cl[i].gap_us = gap_us;
		cl[i].bud = *bud;
		snprintf(cl[i].vm_id, sizeof(cl[i].vm_id), "bench-%s-%d", name, i);
		cl[i].samples = calloc(bud->ops, sizeof(uint64_t));
		if (!cl[i].samples)
			goto out;
	}
	for (; started < n_clients; started++)
		if (pthread_create(&th[started], NULL, rtt_client_main, &cl[started]) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started < n_clients) {
		bench_error("%s: cannot start client threads", name);
		goto out;
	}
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].err) {
			bench_error("%s: client %d: %s (%s)", name, i, vfpool_strerror(cl[i].err),
				    cl[i].why);
			goto out;
		}
		total += cl[i].n;
		first = cl[i].start_ns < first ? cl[i].start_ns : first;
		last = cl[i].end_ns > last ? cl[i].end_ns : last;
	}
	all = calloc(total ? total : 1, sizeof(*all));
	if (!all)
		goto out;
	total = 0;
	for (int i = 0; i < n_clients; i++) {
		memcpy(all + total, cl[i].samples, cl[i].n * sizeof(*all));
		total += cl[i].n;
	}
	bench_percentiles(all, total, r);
	r->ops_per_s = last > first ? (double)total * 1e9 / (double)(last - first) : 0;
	ret = 0;
out:
	free(all);
	for (int i = 0; i < n_clients; i++)
		free(cl[i].samples);
	return ret;
}

static void emit_rtt(const char *name, const char *run_dir, const struct bench_budget *bud,
		     int n_clients, const int *cpus, unsigned client_spin_us, unsigned gap_us,
		     const char *note)
{
	struct bench_result r = { .name = name, .note = note };

	if (run_rtt(name, run_dir, bud, n_clients, cpus, client_spin_us, gap_us, &r) == 0)
		bench_emit(&r);
}

/* Publishes the queued batch and waits for all BATCH completions: 0, or the error of the
 * first that failed with "what: its reason" in why. */
static int flush_and_reap(struct vfpool *h, struct vfpool_completion *cqes, const char *what,
			  char *why, size_t why_len)
{
	int r = vfpool_flush(h);

	if (r < 0)
		return r;
	for (int got = 0; got < BATCH; got += r) {
		r = vfpool_reap(h, cqes + got, (unsigned)(BATCH - got), (unsigned)(BATCH - got), 5000);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < BATCH; i++) {
		if (cqes[i].res < 0) {
			snprintf(why, why_len, "%s: %s", what, cqes[i].why);
			return cqes[i].res;
		}
	}
	return 0;
}

/* One batch: 64 allocations in one flush, reap them, 64 releases in one flush, reap. */
static int batch_round(struct vfpool *h, struct vfpool_alloc_req *reqs,
		       struct vfpool_completion *cqes, char *why, size_t why_len)
{
	int r;

	for (int i = 0; i < BATCH; i++) {
		r = vfpool_submit_alloc(h, &reqs[i], (uint64_t)i);
		if (r < 0)
			return r;
	}
	r = flush_and_reap(h, cqes, "alloc", why, why_len);
	if (r < 0)
		return r;
	for (int i = 0; i < BATCH; i++) {
		r = vfpool_submit_release(h, reqs[cqes[i].user_data].vm_id,
					  reqs[cqes[i].user_data].vnic_id, cqes[i].lease.generation,
					  cqes[i].user_data);
		if (r < 0)
			return r;
	}
	return flush_and_reap(h, cqes, "release", why, why_len);
}

struct batch_client {
	const char *run_dir;
	int cpu;          /* index for bench_pin, < 0: not pinned */
	unsigned spin_us; /* the client's spin before it sleeps on completions */
	struct bench_budget bud;
	char vm_id[32];
	uint64_t *samples; /* per batch round: its time / BATCH */
	size_t n;
	uint64_t start_ns, end_ns;
	int err;
	char why[200];
};

static void *batch_client_main(void *arg)
{
	struct batch_client *c = arg;
	struct vfpool_alloc_req reqs[BATCH];
	struct vfpool_completion cqes[BATCH];
	char vnic[BATCH][16];
	struct vfpool *h = NULL;
	uint64_t deadline;

	for (int i = 0; i < BATCH; i++) {
		cqes[i] = VFPOOL_OPTS(vfpool_completion);
		snprintf(vnic[i], sizeof(vnic[i]), "nic%d", i);
		reqs[i] = VFPOOL_OPTS(vfpool_alloc_req, .vm_id = c->vm_id, .vnic_id = vnic[i],
				      .network = "default", .numa_node = -1);
	}
	if (c->cpu >= 0)
		bench_pin(c->cpu);
	c->err = connect_client(c->run_dir, c->spin_us, &h);
	for (size_t i = 0; i < c->bud.ops / 10 && !c->err; i++)
		c->err = batch_round(h, reqs, cqes, c->why, sizeof(c->why));
	c->start_ns = bench_now_ns();
	deadline = c->start_ns + c->bud.cap_ns;
	while (c->n < c->bud.ops && !c->err) {
		uint64_t t0 = bench_now_ns();

		c->err = batch_round(h, reqs, cqes, c->why, sizeof(c->why));
		c->samples[c->n++] = (bench_now_ns() - t0) / BATCH;
		if ((c->n & 63) == 0 && bench_now_ns() > deadline)
			break;
	}
	c->end_ns = bench_now_ns();
	if (c->cpu >= 0)
		bench_unpin();
	if (h)
		vfpool_close(h);
	return NULL;
}

/* n_clients batching clients at once against the polling daemon; ops/s is the sum. */
static void run_batch(const struct bench_opts *o, const char *run_dir, const char *name,
		      int n_clients, const int *cpus, unsigned spin_us, const char *note)
{
	struct batch_client cl[MAX_CLIENTS] = { 0 };
	struct bench_result r = { .name = name, .note = note };
	pthread_t th[MAX_CLIENTS];
	uint64_t *all = NULL, first = UINT64_MAX, last = 0;
	size_t total = 0;
	int started = 0;

	for (int i = 0; i < n_clients; i++) {
		cl[i].run_dir = run_dir;
		cl[i].cpu = cpus ? cpus[i] : -1;
		cl[i].spin_us = spin_us;
		cl[i].bud = bench_budget_for(o, 20000, 2.0); /* batches */
		snprintf(cl[i].vm_id, sizeof(cl[i].vm_id), "bench-%s-%d", name, i);
		cl[i].samples = calloc(cl[i].bud.ops, sizeof(uint64_t));
		if (!cl[i].samples) {
			bench_error("%s: out of memory", name);
			goto out;
		}
	}
	for (; started < n_clients; started++)
		if (pthread_create(&th[started], NULL, batch_client_main, &cl[started]) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started < n_clients) {
		bench_error("%s: cannot start client threads", name);
		goto out;
	}
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].err) {
			bench_error("%s: client %d: %s %s", name, i, vfpool_strerror(cl[i].err),
				    cl[i].why);
			goto out;
		}
		total += cl[i].n;
		first = cl[i].start_ns < first ? cl[i].start_ns : first;
		last = cl[i].end_ns > last ? cl[i].end_ns : last;
	}
	all = calloc(total ? total : 1, sizeof(*all));
	if (!all)
		goto out;
	total = 0;
	for (int i = 0; i < n_clients; i++) {
		memcpy(all + total, cl[i].samples, cl[i].n * sizeof(*all));
		total += cl[i].n;
	}
	bench_percentiles(all, total, &r);
	r.ops_per_s = last > first ? (double)total * BATCH * 1e9 / (double)(last - first) : 0;
	bench_emit(&r);
out:
	free(all);
	for (int i = 0; i < n_clients; i++)
		free(cl[i].samples);
}

/* Connects n clients that then do nothing, for the idle-client scenarios. Returns how
 * many connected (said if short). */
static size_t connect_idle(const char *run_dir, struct vfpool **h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct vfpool_opts opts = { .sz = sizeof(opts), .ring_entries = 8 };
		int r = vfpool_connect(run_dir, &opts, &h[i]);

		if (r < 0) {
			bench_error("idle client %zu of %zu: %s", i + 1, n, vfpool_strerror(r));
			break;
		}
	}
	return i;
}

static void run_polling(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 500000, 3.0);
	static const int cpu1[] = { 1, 1 };
	struct vfpool *idle[IDLE_CLIENTS];
	struct bench_daemon d;
	size_t n_idle;

	if (!bench_wanted("rtt_poll") && !bench_wanted("batch64") &&
	    !bench_wanted("rtt_poll_idle255") && !bench_wanted("batch64_2clients"))
		return;
	if (bench_daemon_start(&d, BENCH_SIM_SPEC, POLL_SPIN_US, 0) != 0)
		return;
	if (bench_wanted("rtt_poll"))
		emit_rtt("rtt_poll", d.run_dir, &bud, 1, cpu1, CLIENT_POLL_SPIN_US, 0,
			 "polling daemon on CPU 0, 1 polling client on CPU 1 (both CPUs busy); "
			 "alloc+release/op = 2 round trips, back to back");
	if (bench_wanted("batch64"))
		run_batch(o, d.run_dir, "batch64", 1, cpu1, CLIENT_POLL_SPIN_US,
			  "polling daemon, 1 client: 64 allocs/flush then 64 releases/flush; "
			  "latency = batch time / 64");
	if (bench_wanted("batch64_2clients"))
		run_batch(o, d.run_dir, "batch64_2clients", 2, cpu1, 0,
			  "as batch64, 2 clients at once, both on CPU 1 with the library's default "
			  "spin (the polling daemon has CPU 0); ops/s summed");
	if (bench_wanted("rtt_poll_idle255")) {
		n_idle = connect_idle(d.run_dir, idle, IDLE_CLIENTS);
		if (n_idle == IDLE_CLIENTS)
			emit_rtt("rtt_poll_idle255", d.run_dir, &bud, 1, cpu1, CLIENT_POLL_SPIN_US,
				 0, "rtt_poll with 255 further clients connected and idle");
		while (n_idle > 0)
			vfpool_close(idle[--n_idle]);
	}
	bench_daemon_stop(&d);
}

/* rtt_sleep, with the back-to-back figure of the same daemon in its note. */
static void run_rtt_sleep(const char *run_dir, const struct bench_budget *bud)
{
	static const int apart[] = { 1 };
	struct bench_result r = { .name = "rtt_sleep" }, b2b = { 0 };
	char note[240];

	if (run_rtt("rtt_sleep", run_dir, bud, 1, apart, 0, SLEEP_GAP_US, &r) != 0 ||
	    run_rtt("rtt_sleep", run_dir, bud, 1, apart, 0, 0, &b2b) != 0)
		return;
	snprintf(note, sizeof(note),
		 "sleeping daemon (--spin-us 0) on CPU 0, client on CPU 1, default client "
		 "spin; %u us idle between ops; back to back: p50 %.0f ns, p99 %.0f ns",
		 SLEEP_GAP_US, b2b.p50_ns, b2b.p99_ns);
	r.note = note;
	bench_emit(&r);
}

static void run_sleeping(const struct bench_opts *o, bool one_cpu)
{
	struct bench_budget bud = bench_budget_for(o, 100000, 2.0);
	static const int together[] = { 0 };
	struct bench_daemon d;

	if (one_cpu ? !bench_wanted("rtt_sleep_1cpu")
		    : !bench_wanted("rtt_sleep") && !bench_wanted("rtt_sleep_2clients"))
		return;
	if (bench_daemon_start(&d, BENCH_SIM_SPEC, 0, 0) != 0)
		return;
	if (one_cpu) {
		emit_rtt("rtt_sleep_1cpu", d.run_dir, &bud, 1, together, 0, SLEEP_GAP_US,
			 "as rtt_sleep, daemon and client on 1 CPU (compare unix_socket_1cpu)");
	} else {
		if (bench_wanted("rtt_sleep"))
			run_rtt_sleep(d.run_dir, &bud);
		if (bench_wanted("rtt_sleep_2clients"))
			emit_rtt("rtt_sleep_2clients", d.run_dir, &bud, 2, NULL, 0, SLEEP_GAP_US,
				 "sleeping daemon, 2 client threads not pinned, paced as rtt_sleep; "
				 "latency over both, ops/s summed");
	}
	bench_daemon_stop(&d);
}

void bench_rtt(const struct bench_opts *o)
{
	run_polling(o);
	run_sleeping(o, false);
	run_sleeping(o, true);
}
