/* SPDX-License-Identifier: MIT */
/*
 * snapshot_read: what an ops tool polling the daemon pays for a consistent copy of its
 * whole state (vfpool_snapshot_refresh: seqlock'ed copy plus validation of the copy) while
 * a client keeps allocating; the note adds the one-shot vfpool_snapshot_take + free
 * (open, map, copy, unmap). plain_copy: a memcpy of the same number of bytes
 * (vfpool_snapshot_size) from the same shared mapping, under the same load: the floor for
 * any read of that much memory.
 *
 * The writer (a client on CPU 1 doing alloc+release pairs against a polling daemon on
 * CPU 0) is measured three ways, reported in snapshot_read's note: alone; with a reader
 * taking one snapshot per millisecond (an ops tool polling) from CPU 1, so the daemon's
 * writes and the reader's loads meet in the coherence protocol as they would in
 * production; and with the back-to-back reader whose latency is reported, on CPU 0. On two
 * CPUs that reader also takes CPU time from the daemon, so the paced figure is the one that
 * isolates the seqlock's effect. The writer's rate drifts by 2x between runs on this VM
 * (as the ping-pong does: the hypervisor moves the vCPUs), so "alone" and "paced" phases
 * alternate ALTERNATIONS times and their averages are compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vfpool/vfpool.h>

#include "bench/bench.h"
#include "bench/bench_pool.h"
#include "bench/daemon.h"
#include "bench/scenario.h"
#include "shm/layout.h"

#define PACED_READ_NS 1000000u
#define ALTERNATIONS  3
#define SNAPSHOT_DAEMON_SPIN_US 10000000u

struct writer {
	const char *run_dir;
	_Atomic bool stop;
	uint64_t ops;
	uint64_t start_ns, end_ns;
	int err;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct vfpool_opts opts = { .sz = sizeof(opts) };
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "bench-snapshot-writer", .vnic_id = "nic0", .network = "default",
		.numa_node = -1);
	struct vfpool_lease lease = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	bench_pin(1);
	w->err = vfpool_connect(w->run_dir, &opts, &h);
	if (w->err < 0)
		return NULL;
	w->start_ns = bench_now_ns();
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		w->err = vfpool_alloc(h, &req, &lease, NULL, 0);
		if (w->err >= 0)
			w->err = vfpool_release(h, req.vm_id, req.vnic_id, lease.generation,
						NULL, 0);
		if (w->err < 0)
			break;
		w->err = 0;
		w->ops++;
	}
	w->end_ns = bench_now_ns();
	vfpool_close(h);
	return NULL;
}

static int writer_start(struct writer *w, const char *run_dir, pthread_t *th)
{
	memset(w, 0, sizeof(*w));
	w->run_dir = run_dir;
	atomic_init(&w->stop, false);
	return pthread_create(th, NULL, writer_main, w) == 0 ? 0 : -EAGAIN;
}

/* Stops the writer; its alloc+release pairs per second, or < 0 on error. */
static double writer_stop(struct writer *w, pthread_t th)
{
	atomic_store(&w->stop, true);
	pthread_join(th, NULL);
	if (w->err < 0 || w->end_ns <= w->start_ns)
		return -1;
	return (double)w->ops * 1e9 / (double)(w->end_ns - w->start_ns);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	nanosleep(&ts, NULL);
}

/* The writer alone for the given time: its rate. */
static double writer_alone(const char *run_dir, uint64_t ns)
{
	struct writer w;
	pthread_t th;

	if (writer_start(&w, run_dir, &th) != 0)
		return -1;
	sleep_ns(ns);
	return writer_stop(&w, th);
}

struct reads {
	uint64_t *samples; /* NULL: not kept */
	size_t n;
	uint64_t elapsed_ns;
	int err;
};

/* One read: refresh (what a polling reader does), or a one-shot take + free. */
static int read_once(const char *run_dir, struct vfpool_snapshot *snap, bool one_shot)
{
	struct vfpool_snapshot *s;
	int r;

	if (!one_shot)
		return vfpool_snapshot_refresh(snap);
	r = vfpool_snapshot_take(run_dir, &s);
	if (r == 0)
		vfpool_snapshot_free(s);
	return r;
}

/* Reads while the writer runs: back to back, or one per PACED_READ_NS when paced.
 * Returns the writer's rate. */
static double read_while_writing(const char *run_dir, const struct bench_budget *bud,
				 bool paced, bool one_shot, int cpu, struct reads *rd)
{
	struct vfpool_snapshot *snap = NULL;
	uint64_t start, deadline;
	struct writer w;
	pthread_t th;

	rd->n = 0;
	rd->err = vfpool_snapshot_take(run_dir, &snap);
	if (rd->err < 0)
		return -1;
	if (writer_start(&w, run_dir, &th) != 0) {
		vfpool_snapshot_free(snap);
		return -1;
	}
	bench_pin(cpu);
	start = bench_now_ns();
	deadline = start + bud->cap_ns;
	while (rd->n < bud->ops && bench_now_ns() < deadline) {
		uint64_t t0 = bench_now_ns();

		rd->err = read_once(run_dir, snap, one_shot);
		if (rd->err < 0)
			break;
		if (rd->samples)
			rd->samples[rd->n] = bench_now_ns() - t0;
		rd->n++;
		if (paced)
			sleep_ns(PACED_READ_NS);
	}
	rd->elapsed_ns = bench_now_ns() - start;
	bench_unpin();
	vfpool_snapshot_free(snap);
	return writer_stop(&w, th);
}

/* The bytes a snapshot copies, as the library says. */
static size_t snapshot_bytes(const char *run_dir)
{
	struct vfpool_snapshot *snap;
	size_t n;

	if (vfpool_snapshot_take(run_dir, &snap) != 0)
		return 0;
	n = vfpool_snapshot_size(snap);
	vfpool_snapshot_free(snap);
	return n;
}

/* A read-only view of the state segment, as any reader maps it. */
static const void *map_state(const char *run_dir, size_t *ret_size)
{
	char path[160];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/state", run_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*ret_size = (size_t)st.st_size;
	return p;
}

/* memcpy of the snapshot's bytes from the shared mapping, while the writer runs. */
static int plain_copy(const char *run_dir, const struct bench_budget *bud)
{
	struct bench_result r = { .name = "plain_copy" };
	uint64_t *samples = calloc(bud->ops, sizeof(*samples));
	size_t map_size = 0, bytes, n = 0;
	const void *map = map_state(run_dir, &map_size);
	uint64_t start, end, deadline;
	struct writer w;
	char note[160];
	void *buf = NULL;
	pthread_t th;

	if (!map || !samples) {
		bench_error("plain_copy: cannot map %s/state", run_dir);
		free(samples);
		return -1;
	}
	bytes = snapshot_bytes(run_dir);
	if (bytes == 0 || bytes > map_size)
		bytes = map_size;
	buf = malloc(bytes);
	if (!buf || writer_start(&w, run_dir, &th) != 0) {
		bench_error("plain_copy: out of memory or threads");
		goto out;
	}
	bench_pin(0);
	start = bench_now_ns();
	deadline = start + bud->cap_ns;
	while (n < bud->ops && bench_now_ns() < deadline) {
		uint64_t t0 = bench_now_ns();

		memcpy(buf, map, bytes);
		/* keep the copy observable so it is not optimized away */
		__asm__ __volatile__("" : : "r"(buf) : "memory");
		samples[n++] = bench_now_ns() - t0;
	}
	end = bench_now_ns();
	bench_unpin();
	writer_stop(&w, th);
	bench_percentiles(samples, n, &r);
	r.ops_per_s = (double)n * 1e9 / (double)(end - start);
	snprintf(note, sizeof(note), "memcpy of the snapshot's %zu bytes from the shared "
		 "mapping, writer running", bytes);
	r.note = note;
	bench_emit(&r);
out:
	free(buf);
	free(samples);
	munmap((void *)map, map_size);
	return 0;
}

void bench_snapshot(const struct bench_opts *o)
{
	struct bench_budget bud = bench_budget_for(o, 200000, 2.0);
	struct bench_budget one_shot_bud = bench_budget_for(o, 50000, 1.0);
	struct bench_result r = { .name = "snapshot_read" }, take = { 0 };
	struct reads busy = { .samples = calloc(bud.ops, sizeof(uint64_t)) };
	struct reads oneshot = { .samples = calloc(one_shot_bud.ops, sizeof(uint64_t)) };
	struct reads paced = { 0 };
	double alone, w_busy, w_paced;
	struct bench_daemon d;
	char note[320];

	if (!busy.samples || !oneshot.samples) {
		bench_error("snapshot: out of memory");
		goto out;
	}
	if (bench_daemon_start(&d, BENCH_SIM_SPEC, SNAPSHOT_DAEMON_SPIN_US, 0) != 0)
		goto out;
	if (bench_wanted("plain_copy"))
		plain_copy(d.run_dir, &bud);
	if (bench_wanted("snapshot_read")) {
		struct bench_budget phase = bud;

		phase.cap_ns /= ALTERNATIONS;
		alone = w_paced = 0;
		for (int i = 0; i < ALTERNATIONS && paced.err == 0; i++) {
			double a = writer_alone(d.run_dir, phase.cap_ns);
			double p = read_while_writing(d.run_dir, &phase, true, false, 1, &paced);

			alone += a > 0 ? a / ALTERNATIONS : -1;
			w_paced += p > 0 ? p / ALTERNATIONS : -1;
		}
		w_busy = read_while_writing(d.run_dir, &bud, false, false, 0, &busy);
		read_while_writing(d.run_dir, &one_shot_bud, false, true, 0, &oneshot);
		if (busy.err < 0 || paced.err < 0 || oneshot.err < 0 || alone <= 0 ||
		    w_busy <= 0 || w_paced <= 0) {
			bench_error("snapshot_read: %s (writer alone %.0f/s)",
				    vfpool_strerror(busy.err ? busy.err
						    : paced.err ? paced.err : oneshot.err), alone);
		} else {
			bench_percentiles(busy.samples, busy.n, &r);
			bench_percentiles(oneshot.samples, oneshot.n, &take);
			r.ops_per_s = (double)busy.n * 1e9 / (double)busy.elapsed_ns;
			snprintf(note, sizeof(note),
				 "vfpool_snapshot_refresh of the whole state (take+free: p50 "
				 "%.0f ns); writer alloc+release/s alone %.0f, with a reader every "
				 "ms on the other CPU %.0f (%.2fx), back to back %.0f (%.2fx)",
				 take.p50_ns, alone, w_paced, w_paced / alone, w_busy,
				 w_busy / alone);
			r.note = note;
			bench_emit(&r);
		}
	}
	bench_daemon_stop(&d);
out:
	free(busy.samples);
	free(oneshot.samples);
}
