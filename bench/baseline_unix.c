/* SPDX-License-Identifier: MIT */
/*
 * unix_socket: the RPC shape libvirt and Kubernetes device plugins use. A server thread
 * owns a pool (same shape, same pool_alloc/pool_release_vf calls as the daemon) and answers
 * fixed-size requests over a SOCK_STREAM unix socket; the client does write + read per
 * request. Requests and answers are the ring's own entries (256 bytes each way). One op is
 * an alloc+release pair: two round trips, as in rtt_*. Ops are paced BENCH_IDLE_GAP_US
 * apart, as rtt_sleep is (measured: it changes this baseline by a few percent at most,
 * since its server sleeps in read() either way).
 *
 * Placement matters more than anything else here: on a VM, waking a thread on the other
 * vCPU costs an inter-processor interrupt and often a trip through the hypervisor. So two
 * rows: unix_socket with server and client on different CPUs (as the daemon scenarios
 * place daemon and client; the ratios use this one) and unix_socket_1cpu with both on one
 * CPU (the baseline's best case: the wakeup is a direct switch).
 *
 * The server does less than vfpoold (no names, no lease records: the release names the
 * slot directly), which only flatters this baseline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bench_pool.h"
#include "bench/scenario.h"
#include "shm/layout.h"

struct unix_server {
	int fd;
	int cpu;
	struct bench_pool bp;
};

static int io_full(int fd, void *buf, size_t len, bool writing)
{
	char *p = buf;

	while (len > 0) {
		ssize_t k = writing ? write(fd, p, len) : read(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? -ECONNRESET : -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static void serve_one(struct unix_server *s, const struct vfpool_sqe *sqe, struct vfpool_cqe *cqe)
{
	struct pool_pick pick;

	memset(cqe, 0, sizeof(*cqe));
	cqe->user_data = sqe->user_data;
	switch (sqe->opcode) {
	case VFPOOL_OP_ALLOC:
		cqe->res = pool_alloc(&s->bp.pool, NULL, sqe->numa_node, &pick);
		if (cqe->res == 0) {
			cqe->pf_index = pick.pf;
			cqe->vf_slot = pick.slot;
		}
		break;
	case VFPOOL_OP_RELEASE: {
		uint32_t pf = (uint32_t)(sqe->generation >> 32), slot = (uint32_t)sqe->generation;

		cqe->res = pf < s->bp.pool.n_pfs ? pool_release_vf(&s->bp.pfs[pf], slot) : -EINVAL;
		break;
	}
	default:
		cqe->res = -EOPNOTSUPP;
	}
}

static void *unix_server_main(void *arg)
{
	struct unix_server *s = arg;
	struct vfpool_sqe sqe;
	struct vfpool_cqe cqe;

	bench_pin(s->cpu);
	while (io_full(s->fd, &sqe, sizeof(sqe), false) == 0) {
		serve_one(s, &sqe, &cqe);
		if (io_full(s->fd, &cqe, sizeof(cqe), true) != 0)
			break;
	}
	return NULL;
}

static int call(int fd, struct vfpool_sqe *sqe, struct vfpool_cqe *cqe)
{
	int r = io_full(fd, sqe, sizeof(*sqe), true);

	if (r == 0)
		r = io_full(fd, cqe, sizeof(*cqe), false);
	return r ? r : cqe->res;
}

static int alloc_release(int fd, uint64_t seq)
{
	struct vfpool_sqe sqe = { .user_data = seq, .opcode = VFPOOL_OP_ALLOC, .numa_node = -1 };
	struct vfpool_cqe cqe;
	int r;

	snprintf(sqe.vm_id, sizeof(sqe.vm_id), "bench-vm");
	snprintf(sqe.vnic_id, sizeof(sqe.vnic_id), "nic0");
	snprintf(sqe.network, sizeof(sqe.network), "default");
	r = call(fd, &sqe, &cqe);
	if (r)
		return r;
	sqe.opcode = VFPOOL_OP_RELEASE;
	sqe.generation = (uint64_t)cqe.pf_index << 32 | cqe.vf_slot;
	return call(fd, &sqe, &cqe);
}

static void run_unix(const struct bench_opts *o, const char *name, int server_cpu,
		     int client_cpu, const char *note)
{
	struct bench_budget bud = bench_budget_for(o, 100000, 2.0);
	uint64_t *samples = calloc(bud.ops, sizeof(*samples));
	struct bench_result r = { .name = name, .note = note };
	struct unix_server srv;
	uint64_t start, end, deadline, seq = 0;
	int sv[2] = { -1, -1 }, err = 0;
	size_t n = 0;
	pthread_t th;

	if (!samples || bench_pool_init(&srv.bp, BENCH_SIM_PFS, BENCH_SIM_VFS) != 0) {
		bench_error("%s: out of memory", name);
		free(samples);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		bench_error("%s: socketpair: %s", name, strerror(errno));
		goto out;
	}
	srv.fd = sv[0];
	srv.cpu = server_cpu;
	if (pthread_create(&th, NULL, unix_server_main, &srv) != 0) {
		bench_error("%s: cannot start the server thread", name);
		goto out;
	}
	bench_pin(client_cpu);
	for (size_t i = 0; i < bud.ops / 10 && !err; i++)
		err = alloc_release(sv[1], ++seq);
	start = bench_now_ns();
	deadline = start + bud.cap_ns;
	while (n < bud.ops && !err) {
		uint64_t t0 = bench_now_ns();

		err = alloc_release(sv[1], ++seq);
		samples[n++] = bench_now_ns() - t0;
		usleep(BENCH_IDLE_GAP_US); /* paced like rtt_sleep: same conditions */
		if ((n & 255) == 0 && bench_now_ns() > deadline)
			break;
	}
	end = bench_now_ns();
	bench_unpin();
	shutdown(sv[1], SHUT_WR); /* the server sees EOF and returns */
	pthread_join(th, NULL);
	if (err) {
		bench_error("%s: request failed: %s", name, strerror(-err));
	} else {
		bench_percentiles(samples, n, &r);
		r.ops_per_s = (double)n * 1e9 / (double)(end - start);
		bench_emit(&r);
	}
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	bench_pool_fini(&srv.bp);
	free(samples);
}

void bench_unix_socket(const struct bench_opts *o)
{
	if (bench_wanted("unix_socket"))
		run_unix(o, "unix_socket", 0, 1,
			 "alloc+release/op = 2 write+read round trips of 256 B; server and client "
			 "on 2 CPUs; paced 50 us apart");
	if (bench_wanted("unix_socket_1cpu"))
		run_unix(o, "unix_socket_1cpu", 0, 0,
			 "as unix_socket, server and client on 1 CPU (its best case here)");
}
