/* SPDX-License-Identifier: MIT */
/* The real vfpoold binary and libvfpool over the real control socket. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/libvfpool/internal.h"
#include "shm/control_proto.h"
#include "shm/layout.h"
#include "tests/daemon_fixture.h"
#include "vfpool/vfpool.h"

static struct vfpool_alloc_req req_for(const char *vm, const char *vnic)
{
	return VFPOOL_OPTS(vfpool_alloc_req, .vm_id = vm, .vnic_id = vnic, .network = "red",
			   .numa_node = -1);
}

static unsigned leased_in_snapshot(const struct test_daemon *d, const char *vm)
{
	struct vfpool_snapshot *s;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		if (v.status == VFPOOL_VF_STATUS_LEASED && (!vm || strcmp(v.vm_id, vm) == 0))
			n++;
	}
	vfpool_snapshot_free(s);
	return n;
}

Test(daemon, alloc_and_release_over_the_control_socket)
{
	struct test_daemon d;
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160];

	test_daemon_start(&d, "2x16", NULL);
	struct vfpool *h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req, &l, why, sizeof(why)), 0, "%s", why);
	cr_assert_neq(l.pci_addr[0], '\0');
	cr_assert_neq(l.generation, 0u);
	cr_assert_eq(leased_in_snapshot(&d, "vm1"), 1u);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", l.generation, NULL, 0), 0);
	cr_assert_eq(leased_in_snapshot(&d, "vm1"), 0u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0, "daemon did not shut down cleanly");
}

/* Through the library, as any launcher asks (not only vfpoolctl, which checks the lease it
 * gets back): the daemon itself refuses a held vNIC asked for with another MAC, naming
 * both, instead of answering with a lease that does not carry it. */
Test(daemon, held_vnic_asked_with_another_mac_is_refused_by_the_daemon)
{
	static const uint8_t mac1[6] = { 0x52, 0x54, 0, 0, 0, 1 }, mac2[6] = { 0x52, 0x54, 0, 0, 0, 2 };
	struct test_daemon d;
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease), again = VFPOOL_OPTS(vfpool_lease);
	char why[200] = "", want[200];

	test_daemon_start(&d, "1x4", NULL);
	struct vfpool *h = connect_ok(&d);
	req.mac = mac1;
	cr_assert_eq(vfpool_alloc(h, &req, &l, why, sizeof(why)), 0, "%s", why);
	req.mac = mac2;
	cr_assert_eq(vfpool_alloc(h, &req, &again, why, sizeof(why)), -EEXIST,
		     "another MAC answered as if applied: %s", why);
	snprintf(want, sizeof(want), "vm1/nic0: already holds %s with MAC 52:54:00:00:00:01, "
		 "not 52:54:00:00:00:02; release it first", l.pci_addr);
	cr_assert_str_eq(why, want);
	req.mac = mac1;
	cr_assert_eq(vfpool_alloc(h, &req, &again, why, sizeof(why)), 0, "%s", why);
	cr_assert(again.flags & VFPOOL_LEASE_EXISTING, "a retry is flagged already held");
	cr_assert_eq(again.generation, l.generation);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, batch_of_200_allocations_completes_and_shows_in_the_snapshot)
{
	struct test_daemon d;
	struct vfpool_completion done[256] = { [0 ... 255] = VFPOOL_OPTS(vfpool_completion) };
	char vnic[32];
	int got = 0;

	test_daemon_start(&d, "4x64", NULL);
	struct vfpool *h = connect_ok(&d);
	for (int i = 0; i < 200; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		struct vfpool_alloc_req req = req_for("vmbatch", vnic);
		cr_assert_eq(vfpool_submit_alloc(h, &req, (uint64_t)i), 0, "submit %d", i);
	}
	cr_assert_eq(vfpool_flush(h), 200);
	while (got < 200) {
		int n = vfpool_reap(h, done + got, 256 - (unsigned)got, 1, 5000);
		cr_assert_gt(n, 0, "reap: %s", vfpool_strerror(n));
		got += n;
	}
	for (int i = 0; i < 200; i++)
		cr_assert_eq(done[i].res, 0, "request %llu: %s", (unsigned long long)done[i].user_data,
			     done[i].why);
	cr_assert_eq(leased_in_snapshot(&d, "vmbatch"), 200u);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static bool wait_for(const _Atomic uint32_t *v, uint32_t want)
{
	for (int i = 0; i < 500; i++) {
		if (atomic_load(v) == want)
			return true;
		usleep(10000);
	}
	return false;
}

Test(daemon, sleeping_daemon_is_woken_by_the_doorbell)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char vnic[32];

	test_daemon_start(&d, "1x64", "--spin-us", "0", NULL);
	struct vfpool *h = connect_ok(&d);
	/* the handle's ring (client/libvfpool/internal.h), to see the daemon's sleep flag */
	struct vfpool_ring_hdr *ring = h->ring;
	uint32_t bell = atomic_load(&ring->sq_bell.v);

	for (int i = 0; i < 50; i++) {
		/* asleep first, or a daemon that never sleeps (or spins) would pass */
		cr_assert(wait_for(&ring->sq_wakeup.v, 1), "alloc %d: the daemon never slept", i);
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		struct vfpool_alloc_req req = req_for("vmsleep", vnic);
		cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0, "alloc %d", i);
	}
	/* not one per alloc: another event may wake the daemon between our look and the
	 * library's, and then the library rightly skips the bell */
	cr_assert_neq(atomic_load(&ring->sq_bell.v), bell, "no alloc rang the doorbell");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, leases_outlive_the_client_that_made_them)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

	test_daemon_start(&d, "1x8", NULL);
	struct vfpool *h = connect_ok(&d);
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	vfpool_close(h);
	cr_assert_eq(leased_in_snapshot(&d, "vm1"), 1u);
	h = connect_ok(&d);
	struct vfpool_lease again = VFPOOL_OPTS(vfpool_lease);
	cr_assert_eq(vfpool_alloc(h, &req, &again, NULL, 0), 0);
	cr_assert(again.flags & VFPOOL_LEASE_EXISTING);
	cr_assert_str_eq(again.pci_addr, l.pci_addr);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, client_that_dies_mid_batch_does_not_disturb_others)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	int status;

	test_daemon_start(&d, "2x64", "--spin-us", "0", NULL);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		struct vfpool *c;
		char vnic[32];

		if (vfpool_connect(d.run_dir, NULL, &c))
			_exit(2);
		for (int i = 0; i < 100; i++) {
			snprintf(vnic, sizeof(vnic), "nic%d", i);
			struct vfpool_alloc_req req = req_for("vmdead", vnic);
			vfpool_submit_alloc(c, &req, (uint64_t)i);
		}
		vfpool_flush(c);
		_exit(0); /* never reaps, never closes */
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct vfpool *h = connect_ok(&d);
	struct vfpool_alloc_req req = req_for("vmlive", "nic0");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	cr_assert(test_daemon_alive(&d));
	/* whatever the dead client got served stays leased to its VM; nothing else leaked */
	unsigned dead = leased_in_snapshot(&d, "vmdead");
	cr_assert_leq(dead, 100u);
	cr_assert_eq(leased_in_snapshot(&d, NULL), dead + 1);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* A raw client: does the handshake itself and gets the ring to abuse it. */
struct raw_client {
	int sock;
	struct vfpool_ring_hdr *ring;
	size_t size;
	struct vfpool_summary_hdr *summary; /* shared with every client: hostile ones write it */
	size_t summary_size;
};

static void raw_connect_rings(const struct test_daemon *d, struct raw_client *rc,
			      uint32_t sq_entries, uint32_t cq_entries)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool_ctl_hello hello = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
					  .type = VFPOOL_CTL_HELLO, .sq_entries = sq_entries,
					  .cq_entries = cq_entries };
	struct vfpool_ctl_welcome w;
	union { char buf[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr a; } ctl;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	int fds[3];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vfpool.sock", d->run_dir);
	rc->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(rc->sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(rc->sock, &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
	cr_assert_eq(recvmsg(rc->sock, &msg, 0), (ssize_t)sizeof(w));
	cr_assert_eq(w.status, 0);
	/* ring, state, pending summary */
	cr_assert_eq(CMSG_FIRSTHDR(&msg)->cmsg_len, CMSG_LEN(sizeof(fds)));
	memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(fds));
	rc->size = w.ring_size;
	rc->ring = mmap(NULL, rc->size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	cr_assert_neq(rc->ring, MAP_FAILED);
	rc->summary_size = 0;
	rc->summary = NULL;
	{
		struct stat st;

		cr_assert_eq(fstat(fds[2], &st), 0);
		rc->summary_size = (size_t)st.st_size;
		rc->summary = mmap(NULL, rc->summary_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fds[2], 0);
		cr_assert_neq(rc->summary, MAP_FAILED);
	}
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
}

static void raw_connect(const struct test_daemon *d, struct raw_client *rc)
{
	raw_connect_rings(d, rc, 8, 8);
}

Test(daemon, client_scribbling_on_its_ring_is_cut_off_and_others_are_served)
{
	struct test_daemon d;
	struct raw_client rc;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);

	test_daemon_start(&d, "2x16", "--spin-us", "0", NULL);
	raw_connect(&d, &rc);
	struct vfpool *h = connect_ok(&d);
	/* garbage entries, then a tail far beyond the ring: a protocol violation */
	struct vfpool_sqe *sqes = (struct vfpool_sqe *)((char *)rc.ring + rc.ring->sq_off);
	memset(sqes, 0xa5, 8 * sizeof(*sqes));
	atomic_store(&rc.ring->sq_tail.v, 5000);
	atomic_fetch_add(&rc.ring->sq_bell.v, 1);
	syscall(SYS_futex, &rc.ring->sq_bell.v, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
	/* the daemon closes the scribbler's connection */
	char b;
	cr_assert_eq(recv(rc.sock, &b, 1, 0), 0, "connection of the scribbler still open");
	struct vfpool_alloc_req req = req_for("vmok", "nic0");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	cr_assert(test_daemon_alive(&d));
	vfpool_close(h);
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, garbage_entries_get_error_completions_not_a_crash)
{
	struct test_daemon d;
	struct raw_client rc;

	test_daemon_start(&d, "1x16", "--spin-us", "0", NULL);
	raw_connect(&d, &rc);
	struct vfpool_sqe *sqes = (struct vfpool_sqe *)((char *)rc.ring + rc.ring->sq_off);
	struct vfpool_cqe *cqes = (struct vfpool_cqe *)((char *)rc.ring + rc.ring->cq_off);
	for (int i = 0; i < 8; i++) {
		memset(&sqes[i], 0x41 + i, sizeof(sqes[i]));
		sqes[i].user_data = 100 + (uint64_t)i;
	}
	atomic_store(&rc.ring->sq_tail.v, 8);
	atomic_fetch_add(&rc.ring->sq_bell.v, 1);
	syscall(SYS_futex, &rc.ring->sq_bell.v, 1, 1, NULL, NULL, 0);
	for (int i = 0; i < 500 && atomic_load(&rc.ring->cq_tail.v) < 8; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&rc.ring->cq_tail.v), 8u);
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(cqes[i].user_data, 100 + (uint64_t)i);
		cr_assert_lt(cqes[i].res, 0, "garbage entry %d succeeded", i);
		cr_assert(strncmp(cqes[i].message, "request rejected: ", 18) == 0, "%s",
			  cqes[i].message);
	}
	cr_assert(test_daemon_alive(&d));
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, bad_handshake_is_refused_with_a_reason)
{
	struct test_daemon d;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool_ctl_hello hello = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
					  .type = VFPOOL_CTL_HELLO, .sq_entries = 7, .cq_entries = 8 };
	struct vfpool_ctl_welcome w;

	test_daemon_start(&d, "1x4", NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vfpool.sock", d.run_dir);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(s, &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
	cr_assert_eq(recv(s, &w, sizeof(w), MSG_WAITALL), (ssize_t)sizeof(w));
	cr_assert_eq(w.status, -EPROTO);
	cr_assert_str_eq(w.message, "ring entries not a power of two in 8..4096");
	close(s);
	cr_assert(test_daemon_alive(&d));
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, clients_beyond_the_limit_are_refused)
{
	struct test_daemon d;
	struct vfpool *a, *b = NULL;

	test_daemon_start(&d, "1x4", "--max-clients", "1", NULL);
	/* the fixture's readiness probe holds the one slot until the daemon reaps its close */
	int r = -EUSERS;
	for (int i = 0; i < 100 && r == -EUSERS; i++) {
		r = vfpool_connect(d.run_dir, NULL, &a);
		if (r == -EUSERS)
			usleep(10000);
	}
	cr_assert_eq(r, 0, "connect: %s", vfpool_strerror(r));
	cr_assert_eq(vfpool_connect(d.run_dir, NULL, &b), -EUSERS);
	cr_assert_null(b);
	vfpool_close(a);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(daemon, reap_reports_a_daemon_that_went_away)
{
	struct test_daemon d;
	struct vfpool_completion c = VFPOOL_OPTS(vfpool_completion);

	test_daemon_start(&d, "1x4", NULL);
	struct vfpool *h = connect_ok(&d);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	d.pid = 0;
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	cr_assert_eq(vfpool_submit_alloc(h, &req, 1), 0);
	vfpool_flush(h);
	cr_assert_eq(vfpool_reap(h, &c, 1, 1, 5000), -ECONNRESET);
	vfpool_close(h);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d.run_dir);
	cr_assert_eq(system(cmd), 0);
}

Test(daemon, second_daemon_on_the_same_run_dir_is_refused)
{
	struct test_daemon d;
	char cmd[512];

	test_daemon_start(&d, "1x4", NULL);
	snprintf(cmd, sizeof(cmd), "%s --simulate 1x4 --run-dir %s --state-dir %s 2>%s/second.log",
		 test_build_path("vfpoold"), d.run_dir, d.run_dir, d.run_dir);
	int rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "second daemon exit %d", rc);
	snprintf(cmd, sizeof(cmd), "grep -q 'another vfpoold runs on this run dir' %s/second.log",
		 d.run_dir);
	cr_assert_eq(system(cmd), 0, "the refusal names the reason");
	cr_assert(test_daemon_alive(&d), "the first daemon keeps serving");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression: a SIGKILLed daemon's io_uring is torn down asynchronously and keeps its
 * listening socket answering for a while; a restart used to take that for a live daemon
 * and refuse to start. */
Test(daemon, restart_right_after_sigkill_serves)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	int status;

	test_daemon_start(&d, "1x4", NULL);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, &status, 0);
	d.pid = 0;
	test_daemon_restart(&d, "1x4", NULL);
	struct vfpool *h = connect_ok(&d);
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static void ring_bell(struct vfpool_ring_hdr *ring)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&ring->sq_wakeup.v)) {
		atomic_fetch_add(&ring->sq_bell.v, 1);
		syscall(SYS_futex, &ring->sq_bell.v, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
	}
}

/* Regression: requests whose completions had no room counted as work, so a client that
 * filled both rings and never reaped kept the daemon spinning forever. */
Test(daemon, client_with_a_full_completion_ring_lets_the_daemon_sleep)
{
	struct test_daemon d;
	struct raw_client rc;

	test_daemon_start(&d, "1x16", "--spin-us", "0", NULL);
	raw_connect(&d, &rc);
	struct vfpool_sqe *sqes = (struct vfpool_sqe *)((char *)rc.ring + rc.ring->sq_off);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 8; i++) {
			memset(&sqes[i], 0, sizeof(sqes[i])); /* NOPs */
			sqes[i].user_data = (uint64_t)(round * 8 + i);
		}
		atomic_store(&rc.ring->sq_tail.v, (uint32_t)(round + 1) * 8);
		ring_bell(rc.ring);
		if (round == 0)
			cr_assert(wait_for(&rc.ring->cq_tail.v, 8), "first 8 not completed");
	}
	/* 8 requests wait for completion room: the daemon must go to sleep on them */
	cr_assert(wait_for(&rc.ring->sq_wakeup.v, 1), "daemon never announced sleep");
	cr_assert_eq(atomic_load(&rc.ring->cq_tail.v), 8u);
	/* the client reaps and rings: the held 8 are served */
	atomic_store(&rc.ring->cq_head.v, 8);
	ring_bell(rc.ring);
	cr_assert(wait_for(&rc.ring->cq_tail.v, 16), "held requests not served after the reap");
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* The daemon sleeps: it announced so (sq_wakeup) and still says so on ten looks in a row,
 * 10 ms apart. A loop that keeps going clears sq_wakeup on its next pass (awake()). */
static bool daemon_sleeps(const struct vfpool_ring_hdr *ring)
{
	int steady = 0;

	for (int i = 0; i < 500 && steady < 10; i++) {
		steady = atomic_load(&ring->sq_wakeup.v) ? steady + 1 : 0;
		usleep(10000);
	}
	return steady == 10;
}

/* n allocs of one VM, linked into one chain, published at the ring's start. */
static void raw_put_chain(struct raw_client *rc, const char *vm, uint32_t first, uint32_t n)
{
	struct vfpool_sqe *sqes = (struct vfpool_sqe *)((char *)rc->ring + rc->ring->sq_off);
	uint32_t mask = rc->ring->sq_entries - 1;

	for (uint32_t i = 0; i < n; i++) {
		struct vfpool_sqe *e = &sqes[(first + i) & mask];

		memset(e, 0, sizeof(*e));
		e->user_data = 100 + i;
		e->opcode = VFPOOL_OP_ALLOC;
		e->numa_node = -1;
		e->flags = i + 1 < n ? VFPOOL_REQ_F_LINK : 0;
		snprintf(e->vm_id, sizeof(e->vm_id), "%s", vm);
		snprintf(e->vnic_id, sizeof(e->vnic_id), "nic%u", i);
		strcpy(e->network, "red");
	}
	atomic_store(&rc->ring->sq_tail.v, first + n);
}

/* Regression (issue 12, defect 7): a published chain longer than the client's completion
 * ring never fitted, was never served and kept the loop from sleeping: one full CPU for as
 * long as the client stayed. Now the client is cut off with the reason logged, and the
 * daemon goes to sleep (the other client's sq_wakeup) and keeps serving. */
Test(daemon, chain_longer_than_the_completion_ring_is_refused_and_the_daemon_sleeps)
{
	struct test_daemon d;
	struct raw_client bad, good;
	struct timeval tv = { .tv_sec = 5 };
	char cmd[512], b;

	test_daemon_start(&d, "1x16", "--spin-us", "0", NULL);
	raw_connect(&d, &good);
	raw_connect_rings(&d, &bad, 16, 8);
	raw_put_chain(&bad, "vmbad", 0, 9);
	atomic_fetch_add(&bad.ring->sq_bell.v, 1);
	syscall(SYS_futex, &bad.ring->sq_bell.v, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
	setsockopt(bad.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(recv(bad.sock, &b, 1, 0), 0,
		     "the client with the unservable chain is not cut off");
	snprintf(cmd, sizeof(cmd),
		 "grep -q 'reason=\"chain of 9 entries longer than the completion ring (8)\"' %s",
		 d.log_path);
	cr_assert_eq(system(cmd), 0, "the disconnect names the reason");
	cr_assert_eq(leased_in_snapshot(&d, "vmbad"), 0u);
	cr_assert(daemon_sleeps(good.ring), "the daemon does not sleep");
	/* and it serves the others */
	raw_put_chain(&good, "vmgood", 0, 2);
	ring_bell(good.ring);
	cr_assert(wait_for(&good.ring->cq_tail.v, 2), "the other client is not served");
	cr_assert_eq(leased_in_snapshot(&d, "vmgood"), 2u);
	munmap(bad.ring, bad.size);
	close(bad.sock);
	munmap(good.ring, good.size);
	close(good.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression (issue 12, defect 7): a chain that fits the completion ring but not the room
 * its client left counted as work: the loop spun while the client did not reap. The
 * daemon sleeps with it connected, and serves the chain once the client reaps and rings. */
Test(daemon, chain_waiting_for_completion_room_lets_the_daemon_sleep)
{
	struct test_daemon d;
	struct raw_client rc;
	struct vfpool_sqe *sqes;

	test_daemon_start(&d, "1x16", "--spin-us", "0", NULL);
	raw_connect(&d, &rc);
	sqes = (struct vfpool_sqe *)((char *)rc.ring + rc.ring->sq_off);
	for (int i = 0; i < 4; i++) {
		memset(&sqes[i], 0, sizeof(sqes[i])); /* NOPs */
		sqes[i].user_data = (uint64_t)i;
	}
	atomic_store(&rc.ring->sq_tail.v, 4);
	ring_bell(rc.ring);
	cr_assert(wait_for(&rc.ring->cq_tail.v, 4), "the NOPs are not completed");
	/* six completions, room for four: the chain waits for the client to reap */
	raw_put_chain(&rc, "vm1", 4, 6);
	atomic_fetch_add(&rc.ring->sq_bell.v, 1);
	syscall(SYS_futex, &rc.ring->sq_bell.v, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
	cr_assert(daemon_sleeps(rc.ring), "the daemon does not sleep");
	cr_assert_eq(atomic_load(&rc.ring->cq_tail.v), 4u);
	atomic_store(&rc.ring->cq_head.v, 4);
	ring_bell(rc.ring);
	cr_assert(wait_for(&rc.ring->cq_tail.v, 10), "the chain is not served after the reap");
	cr_assert_eq(leased_in_snapshot(&d, "vm1"), 6u);
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

struct storm {
	struct vfpool_ring_hdr *ring;
	_Atomic bool stop;
};

/* A client's doorbell, rung as fast as a thread can, with nothing published. */
static void *storm_main(void *arg)
{
	struct storm *st = arg;

	while (!atomic_load(&st->stop)) {
		atomic_fetch_add(&st->ring->sq_bell.v, 1);
		syscall(SYS_futex, &st->ring->sq_bell.v, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
	}
	return NULL;
}

/* A client ringing its doorbell without publishing anything woke the loop once per ring
 * (each wake a spin window): a CPU for as long as it rang. Its doorbell now rests after a
 * few such rings (logged once); what it publishes during the storm is
 * still served, and so are the others. */
Test(daemon, doorbell_storm_is_noticed_and_everyone_is_still_served)
{
	struct test_daemon d;
	struct raw_client rc;
	struct storm st = { .stop = false };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	pthread_t t;
	char cmd[256];
	int found = 1;

	test_daemon_start(&d, "1x16", "--spin-us", "50", NULL);
	raw_connect(&d, &rc);
	struct vfpool *h = connect_ok(&d);
	st.ring = rc.ring;
	cr_assert_eq(pthread_create(&t, NULL, storm_main, &st), 0);
	snprintf(cmd, sizeof(cmd), "grep -q 'client_doorbell_storm.*client=%u ' %s",
		 rc.ring->client_id, d.log_path);
	for (int i = 0; i < 500 && (found = system(cmd)) != 0; i++)
		usleep(10000);
	cr_assert_eq(found, 0, "the storm is not noticed");
	/* mid-storm: the storming client's request and another client's are served */
	raw_put_chain(&rc, "vmstorm", 0, 1);
	cr_assert(wait_for(&rc.ring->cq_tail.v, 1), "the storming client's request is not served");
	struct vfpool_alloc_req req = req_for("vmok", "nic0");
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	atomic_store(&st.stop, true);
	pthread_join(t, NULL);
	cr_assert_eq(leased_in_snapshot(&d, "vmstorm"), 1u);
	vfpool_close(h);
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Regression: replies were queued without backpressure, so a client that pipelined
 * commands and never read the replies grew the daemon's memory without bound. */
Test(daemon, client_that_never_reads_replies_cannot_grow_the_daemon)
{
	struct test_daemon d;
	struct raw_client rc;
	uint8_t frame[sizeof(struct vfpool_ctl_frame) + 5];
	struct vfpool_ctl_frame f = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
				      .type = VFPOOL_CTL_COMMAND, .len = 5 };
	long before, after;
	unsigned sent = 0;

	test_daemon_start(&d, "1x4", NULL);
	raw_connect(&d, &rc);
	before = rss_kib(d.pid);
	memcpy(frame, &f, sizeof(f));
	memcpy(frame + sizeof(f), "ping", 5);
	fcntl(rc.sock, F_SETFL, O_NONBLOCK);
	for (unsigned i = 0; i < 200000; i++) {
		if (send(rc.sock, frame, sizeof(frame), MSG_NOSIGNAL) != (ssize_t)sizeof(frame))
			break; /* the daemon stopped reading: what the fix is for */
		sent++;
	}
	usleep(200000);
	after = rss_kib(d.pid);
	cr_assert_gt(before, 0);
	cr_assert_lt(after - before, 4096, "daemon grew %ld KiB for %u unread replies",
		     after - before, sent);
	cr_assert_lt(sent, 200000u, "the daemon kept reading commands nobody read replies to");
	cr_assert(test_daemon_alive(&d));
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression: a connection that never said hello held its slot forever, so a few silent
 * sockets locked every launcher out. */
Test(daemon, silent_connections_are_cut_off_at_the_handshake_deadline)
{
	struct test_daemon d;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool *h = NULL;
	int silent[2], r = -EUSERS;

	/* a deadline a loaded machine's real client still meets (200 ms did not always) */
	test_daemon_start(&d, "1x4", "--max-clients", "2", "--handshake-timeout-ms", "1000", NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vfpool.sock", d.run_dir);
	for (int i = 0; i < 2; i++) {
		silent[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		cr_assert_eq(connect(silent[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	/* the slots free up once the deadline passes; a real client then gets in */
	for (int i = 0; i < 1000 && r == -EUSERS; i++) {
		r = vfpool_connect(d.run_dir, NULL, &h);
		if (r == -EUSERS)
			usleep(10000);
	}
	cr_assert_eq(r, 0, "connect: %s", vfpool_strerror(r));
	/* and the silent ones were closed by the daemon */
	char b;
	cr_assert_eq(recv(silent[0], &b, 1, 0), 0);
	vfpool_close(h);
	close(silent[0]);
	close(silent[1]);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression: the synchronous calls waited forever, so a daemon that was alive but wedged
 * (stopped, stuck) hung the launcher. */
Test(daemon, sync_alloc_against_a_wedged_daemon_times_out)
{
	struct test_daemon d;
	struct vfpool_opts o = { .sz = sizeof(o), .timeout_ms = 300 };
	struct vfpool_alloc_req req = req_for("vm1", "nic0");
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	struct vfpool *h;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(vfpool_connect(d.run_dir, &o, &h), 0);
	kill(d.pid, SIGSTOP);
	cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), -ETIMEDOUT);
	kill(d.pid, SIGCONT);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* Regression: a reader spun forever on a state segment whose writer died inside a write
 * (the sequence stays odd). */
Test(daemon, snapshot_of_a_segment_left_mid_write_gives_up)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	char copy[128], cmd[400];

	/* a copy of a live state file, as a writer killed mid-write leaves it: sequence odd */
	test_daemon_start(&d, "1x4", NULL);
	snprintf(copy, sizeof(copy), "%s/odd", d.run_dir);
	mkdir(copy, 0755);
	snprintf(cmd, sizeof(cmd), "cp %s/state %s/state", d.run_dir, copy);
	cr_assert_eq(system(cmd), 0);
	{
		char path[160];
		FILE *f;
		uint64_t seq = 1;

		snprintf(path, sizeof(path), "%s/state", copy);
		f = fopen(path, "r+");
		cr_assert(f);
		fseek(f, offsetof(struct vfpool_state_hdr, seq), SEEK_SET);
		fwrite(&seq, sizeof(seq), 1, f);
		fclose(f);
	}
	cr_assert_eq(vfpool_snapshot_take(copy, &s), -EAGAIN);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* VF records are validated when read: a corrupt one is refused (-EPROTO), the rest of the
 * snapshot stays usable. */
Test(daemon, corrupt_vf_record_is_refused_when_read)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
	char copy[128], cmd[400], path[160];
	FILE *f;

	test_daemon_start(&d, "1x4", NULL);
	snprintf(copy, sizeof(copy), "%s/bad", d.run_dir);
	mkdir(copy, 0755);
	snprintf(cmd, sizeof(cmd), "cp %s/state %s/state", d.run_dir, copy);
	cr_assert_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/state", copy);
	f = fopen(path, "r+");
	cr_assert(f);
	{
		struct vfpool_state_hdr h;
		uint32_t bad_pf = 999;

		cr_assert_eq(fread(&h, sizeof(h), 1, f), 1u);
		/* VF record 2 names a PF that does not exist */
		fseek(f, (long)(h.vf_off + 2 * sizeof(struct vfpool_shm_vf) +
				offsetof(struct vfpool_shm_vf, pf_index)), SEEK_SET);
		fwrite(&bad_pf, sizeof(bad_pf), 1, f);
	}
	fclose(f);
	cr_assert_eq(vfpool_snapshot_take(copy, &s), 0);
	cr_assert_eq(vfpool_snapshot_vf(s, 2, &v), -EPROTO);
	cr_assert_eq(vfpool_snapshot_vf(s, 1, &v), 0, "the other records stay readable");
	vfpool_snapshot_free(s);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* A peer that takes every bit of the pending summary as soon as it is set (it may: the
 * segment is every client's). */
struct summary_thief {
	struct raw_client *rc;
	atomic_bool stop;
	uint64_t stolen; /* words that held a bit when taken */
};

static void *thief_main(void *arg)
{
	struct summary_thief *t = arg;
	uint32_t n_words = (uint32_t)((t->rc->summary_size - sizeof(*t->rc->summary)) /
				      sizeof(t->rc->summary->words[0]));

	while (!atomic_load(&t->stop)) {
		for (uint32_t w = 0; w < n_words; w++)
			if (atomic_exchange(&t->rc->summary->words[w].bits, 0))
				t->stolen++;
	}
	return NULL;
}

/* The summary is a hint: with every bit another client sets taken by a peer before the
 * polling daemon sees it, that client's requests are still all served (the daemon looks at
 * every ring now and then). The peer's thefts are counted: the race happened. */
Test(daemon, a_peer_taking_every_summary_bit_delays_requests_but_loses_none)
{
	struct test_daemon d;
	struct raw_client rc;
	struct summary_thief t = { .rc = &rc };
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	pthread_t th;
	int ok = 0;

	test_daemon_start(&d, "1x16", "--spin-us", "100000", NULL);
	raw_connect(&d, &rc);
	cr_assert_not_null(rc.summary);
	struct vfpool *h = connect_ok(&d);
	struct vfpool_alloc_req req = req_for("vm-thief", "nic0");

	cr_assert_eq(pthread_create(&th, NULL, thief_main, &t), 0);
	for (int i = 0; i < 300; i++) {
		int r = vfpool_alloc(h, &req, &l, NULL, 0);

		cr_assert_eq(r, 0, "alloc %d: %s", i, vfpool_strerror(r));
		r = vfpool_release(h, req.vm_id, req.vnic_id, l.generation, NULL, 0);
		cr_assert_eq(r, 0, "release %d: %s", i, vfpool_strerror(r));
		ok++;
	}
	atomic_store(&t.stop, true);
	pthread_join(th, NULL);
	cr_assert_eq(ok, 300);
	cr_assert_gt(t.stolen, 0u, "the peer never took a bit: the race did not happen");
	cr_assert(test_daemon_alive(&d));
	vfpool_close(h);
	munmap(rc.ring, rc.size);
	munmap(rc.summary, rc.summary_size);
	close(rc.sock);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* A hello by hand; returns the welcome (its descriptors closed). */
static struct vfpool_ctl_welcome raw_hello(const struct test_daemon *d, uint32_t entries)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfpool_ctl_hello hello = { .magic = VFPOOL_CTL_MAGIC, .version = VFPOOL_CTL_VERSION,
					  .type = VFPOOL_CTL_HELLO, .sq_entries = entries,
					  .cq_entries = entries };
	struct vfpool_ctl_welcome w;
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/vfpool.sock", d->run_dir);
	cr_assert_eq(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(sock, &hello, sizeof(hello), 0), (ssize_t)sizeof(hello));
	cr_assert_eq(recv(sock, &w, sizeof(w), MSG_WAITALL), (ssize_t)sizeof(w));
	close(sock);
	w.message[sizeof(w.message) - 1] = '\0';
	return w;
}

/* All client rings together fit --ring-memory: a hello past it is refused with the flag
 * named, and the memory of a client that leaves is there for the next one. */
Test(daemon, rings_past_the_ring_memory_budget_are_refused_naming_the_flag)
{
	struct test_daemon d;
	struct vfpool_opts o = { .sz = sizeof(o) }; /* default rings: 132 KiB each */
	struct vfpool *h[8];
	struct vfpool_ctl_welcome w;
	int r;

	test_daemon_start(&d, "1x16", "--spin-us", "0", "--ring-memory", "1", NULL);
	w = raw_hello(&d, VFPOOL_RING_MAX_ENTRIES); /* 2 MiB: never fits 1 MiB */
	cr_assert_eq(w.status, -ENOSPC, "%d %s", w.status, w.message);
	cr_assert(strstr(w.message, "--ring-memory 1 MiB"), "the refusal names the flag: %s",
		  w.message);
	for (int i = 0; i < 7; i++)
		cr_assert_eq(vfpool_connect(d.run_dir, &o, &h[i]), 0, "client %d of 7 fits", i);
	r = vfpool_connect(d.run_dir, &o, &h[7]);
	cr_assert_eq(r, -ENOSPC, "the eighth ring does not fit: %s", vfpool_strerror(r));
	vfpool_close(h[0]);
	for (int i = 0; i < 100 && (r = vfpool_connect(d.run_dir, &o, &h[7])) == -ENOSPC; i++)
		usleep(10000); /* the daemon sees the close and frees the ring */
	cr_assert_eq(r, 0, "a ring given back is there for the next client: %s",
		     vfpool_strerror(r));
	for (int i = 1; i < 8; i++)
		vfpool_close(h[i]);
	cr_assert(test_daemon_alive(&d));
	cr_assert_eq(test_daemon_stop(&d), 0);
}
