/* SPDX-License-Identifier: MIT */
/*
 * Link-event probe, BPF filter vs userspace fallback, in a network namespace the bench makes:
 *  - probe_latency_*: from the rtnetlink request that creates (or deletes) a macvtap on a
 *    tracked veth to link_watch's callback in the receiving thread;
 *  - probe_storm_*: N unrelated devices created and deleted; how often the receiving thread
 *    woke up and how much CPU it used.
 * The receiving thread waits like the daemon's loop does: an io_uring poll on the probe
 * socket, then drains it with non-blocking recv.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/veth.h>

#include "bench/bench.h"
#include "bpf/probe.h"
#include "core/base/clock.h"
#include "core/probe/link_watch.h"

struct receiver {
	struct probe *probe;
	struct link_watch *lw;
	pthread_t thread;
	_Atomic unsigned callbacks;
	_Atomic uint64_t last_cb_ns;
	_Atomic unsigned exit_at; /* leave once callbacks reaches it (0: never) */
	int error;
	uint64_t wakeups;     /* poll completions */
	uint64_t recvs;       /* recv calls that returned data */
	uint64_t cpu_ns;      /* the thread's CPU time, start to exit */
};

static void on_transition(void *userdata, uint32_t slot, const struct link_watch_verdict *v)
{
	struct receiver *rx = userdata;

	(void)slot, (void)v;
	atomic_store(&rx->last_cb_ns, bench_now_ns());
	atomic_fetch_add(&rx->callbacks, 1);
}

static bool should_exit(struct receiver *rx)
{
	unsigned at = atomic_load(&rx->exit_at);

	return at && atomic_load(&rx->callbacks) >= at;
}

static int drain(struct receiver *rx)
{
	static _Thread_local unsigned char buf[65536];
	int fd = probe_fd(rx->probe);

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			rx->recvs++;
			int r = link_watch_feed(rx->lw, buf, (size_t)n);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			/* Lost events: forget the queue, ask the kernel for the truth. */
			int r = probe_drain(rx->probe);
			if (r < 0)
				return r;
			r = link_watch_resync(rx->lw, NULL);
			if (r < 0)
				return r;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
}

static void *receive(void *arg)
{
	struct receiver *rx = arg;
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	struct io_uring ring;
	int r;

	r = io_uring_queue_init(4, &ring, 0);
	if (r < 0) {
		rx->error = r;
		return NULL;
	}
	while (!should_exit(rx)) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_poll_add(sqe, probe_fd(rx->probe), POLLIN);
		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR)
			break;
		r = io_uring_peek_cqe(&ring, &cqe);
		if (r < 0)
			continue;
		r = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (r < 0)
			break;
		rx->wakeups++;
		r = drain(rx);
		if (r < 0)
			break;
		r = 0;
	}
	rx->error = r < 0 ? r : 0;
	io_uring_queue_exit(&ring);
	rx->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return NULL;
}

static int rx_start(struct receiver *rx, bool fallback, int vf)
{
	struct probe_opts o = { .force_fallback = fallback, .rcvbuf = 1 << 22 };
	int r;

	memset(rx, 0, sizeof(*rx));
	r = probe_open(&o, &rx->probe);
	if (r < 0)
		return r;
	if (!fallback && strcmp(probe_mode(rx->probe), "bpf") != 0) {
		fprintf(stderr, "bench_probe: BPF mode unavailable: %s\n",
			probe_fallback_reason(rx->probe));
		probe_close(rx->probe);
		return -EOPNOTSUPP;
	}
	r = link_watch_new(&rx->lw, on_transition, rx);
	if (r < 0)
		goto fail;
	if (fallback)
		link_watch_set_filter(rx->lw, probe_filter, rx->probe);
	r = probe_track(rx->probe, vf, 0);
	if (r >= 0)
		r = link_watch_track_vf(rx->lw, vf, 0);
	if (r >= 0)
		r = link_watch_resync(rx->lw, NULL);
	if (r >= 0)
		r = -pthread_create(&rx->thread, NULL, receive, rx);
	if (r < 0)
		goto fail;
	return 0;
fail:
	link_watch_free(rx->lw);
	probe_close(rx->probe);
	return r;
}

static void rx_join(struct receiver *rx)
{
	pthread_join(rx->thread, NULL);
}

static void rx_close(struct receiver *rx)
{
	link_watch_free(rx->lw);
	probe_close(rx->probe);
}

static int add_macvtap(struct nl_sock *sk, const char *name, int lower)
{
	struct rtnl_link *l = rtnl_link_macvtap_alloc();
	int r;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	rtnl_link_set_link(l, lower);
	rtnl_link_macvtap_set_mode(l, MACVLAN_MODE_PASSTHRU);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	return r;
}

static int del_link(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	return r;
}

static int add_unrelated(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r;

	/* This kernel has no dummy driver; ifb is as unrelated, and one device per request. */
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	r = rtnl_link_set_type(l, "ifb");
	if (r >= 0)
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	return r;
}

static bool wait_callbacks(struct receiver *rx, unsigned n)
{
	uint64_t deadline = bench_now_ns() + 2000000000u;

	while (atomic_load(&rx->callbacks) < n) {
		if (bench_now_ns() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

static void run_latency(struct nl_sock *sk, int vf, bool fallback, unsigned n)
{
	struct bench_result res = { .name = fallback ? "probe_latency_fallback"
						     : "probe_latency_bpf" };
	uint64_t *samples = calloc(2 * (size_t)n, sizeof(*samples));
	uint64_t *acks = calloc(2 * (size_t)n, sizeof(*acks));
	struct bench_result ack = { 0 };
	static char note[2][200];
	struct receiver rx;
	size_t k = 0;
	uint64_t t_start;

	if (!samples || !acks || rx_start(&rx, fallback, vf) < 0) {
		free(samples);
		free(acks);
		return;
	}
	t_start = bench_now_ns();
	for (unsigned i = 0; i < n; i++) {
		/* Create, then delete: each is one busy/free transition to time. */
		for (int step = 0; step < 2; step++) {
			unsigned want = atomic_load(&rx.callbacks) + 1;
			uint64_t t0 = bench_now_ns();
			int r = step == 0 ? add_macvtap(sk, "lat0", vf) : del_link(sk, "lat0");

			acks[k] = bench_now_ns() - t0; /* the event is queued before the ack */

			if (r < 0 || !wait_callbacks(&rx, want)) {
				fprintf(stderr, "bench_probe: macvtap lat0 on veth: %s\n",
					r < 0 ? nl_geterror(r) : "no transition within 2 s");
				goto out;
			}
			samples[k++] = atomic_load(&rx.last_cb_ns) - t0;
		}
	}
	bench_percentiles(samples, k, &res);
	bench_percentiles(acks, k, &ack);
	res.ops_per_s = (double)k * 1e9 / (double)(bench_now_ns() - t_start);
	snprintf(note[fallback], sizeof(note[0]),
		 "macvtap create/delete on a tracked veth -> callback, %zu samples; the request "
		 "alone (to its ack) p50 %.0f ns", k, ack.p50_ns);
	res.note = note[fallback];
	bench_emit(&res);
out:
	/* Wake the receiver for its exit: one more transition. */
	atomic_store(&rx.exit_at, atomic_load(&rx.callbacks) + 1);
	add_macvtap(sk, "end0", vf);
	rx_join(&rx);
	rx_close(&rx);
	del_link(sk, "end0");
	free(samples);
	free(acks);
}

static void run_storm(struct nl_sock *sk, int vf, bool fallback, unsigned n)
{
	struct bench_result res = { .name = fallback ? "probe_storm_fallback" : "probe_storm_bpf" };
	static char note[2][200];
	uint64_t passed = 0, dropped = 0, t0, elapsed;
	struct receiver rx;
	char name[IFNAMSIZ];

	if (rx_start(&rx, fallback, vf) < 0)
		return;
	t0 = bench_now_ns();
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "st%u", i);
		int r = add_unrelated(sk, name);
		if (r < 0) {
			fprintf(stderr, "bench_probe: creating ifb %s: %s\n", name, nl_geterror(r));
			n = i;
			break;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "st%u", i);
		del_link(sk, name);
	}
	elapsed = bench_now_ns() - t0;
	/* The storm's last event is queued before this one, so the receiver has seen it all. */
	atomic_store(&rx.exit_at, atomic_load(&rx.callbacks) + 1);
	add_macvtap(sk, "end0", vf);
	rx_join(&rx);
	probe_counters(rx.probe, &passed, &dropped);
	rx_close(&rx);
	del_link(sk, "end0");
	if (rx.error < 0)
		fprintf(stderr, "bench_probe: receiver: %s\n", strerror(-rx.error));

	res.ops_per_s = (double)(2 * n) * 1e9 / (double)elapsed;
	res.count = (double)rx.wakeups;
	snprintf(note[fallback], sizeof(note[0]),
		 "%u unrelated link events: %llu wakeups, %llu recvs, receiver CPU %.2f ms; "
		 "filter passed %llu dropped %llu", 2 * n, (unsigned long long)rx.wakeups,
		 (unsigned long long)rx.recvs, (double)rx.cpu_ns / 1e6,
		 (unsigned long long)passed, (unsigned long long)dropped);
	res.note = note[fallback];
	bench_emit(&res);
}

void bench_probe(bool quick)
{
	/* the kernel creates and deletes links at ~120/s here: sized so `make bench` stays
	 * under a minute */
	unsigned lat_n = quick ? 50 : 200, storm_n = quick ? 200 : 500;
	struct nl_sock *sk = NULL;
	int orig_ns, vf, r;

	if (geteuid() != 0) {
		fprintf(stderr, "bench_probe: skipped: needs root (makes a network namespace)\n");
		return;
	}
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "bench_probe: skipped: cannot make a network namespace: %s\n",
			strerror(errno));
		if (orig_ns >= 0)
			close(orig_ns);
		return;
	}
	sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		fprintf(stderr, "bench_probe: skipped: no rtnetlink socket\n");
		goto out;
	}
	r = rtnl_link_veth_add(sk, "vf0", "vf0p", getpid());
	if (r < 0) {
		fprintf(stderr, "bench_probe: skipped: creating veth vf0: %s\n", nl_geterror(r));
		goto out;
	}
	vf = (int)if_nametoindex("vf0");
	run_latency(sk, vf, false, lat_n);
	run_latency(sk, vf, true, lat_n);
	run_storm(sk, vf, false, storm_n);
	run_storm(sk, vf, true, storm_n);
out:
	nl_socket_free(sk);
	if (setns(orig_ns, CLONE_NEWNET) < 0)
		fprintf(stderr, "bench_probe: returning to the original network namespace: %s\n",
			strerror(errno));
	close(orig_ns);
}
