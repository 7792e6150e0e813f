/* SPDX-License-Identifier: MIT */
/* Crash safety: the daemon is killed with SIGKILL and restarted on the same state dir;
 * every lease a client was told about is there again, and no VF is leased twice. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/state_dir.h"
#include "vfpool/vfpool.h"

static void start(struct test_daemon *d, const char *spec)
{
	test_daemon_start(d, spec, "--state-dir", state_dir, NULL);
}

/* Restarted in the same run dir: the lease journal lives there, as in /run/vfpool, which
 * survives a daemon crash (the unit keeps it: RuntimeDirectoryPreserve=yes). */
static void restart(struct test_daemon *d, const char *spec)
{
	test_daemon_restart(d, spec, "--state-dir", state_dir, NULL);
}

/* SIGKILL, reaped; the run dir stays for the restart. */
static void crash(struct test_daemon *d)
{
	int status;

	kill(d->pid, SIGKILL);
	cr_assert_eq(waitpid(d->pid, &status, 0), d->pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	d->pid = 0;
}

struct held {
	char vm[64], vnic[32], pci[16];
	unsigned long long gen;
};

/* The VFs leased in the snapshot, and a check that no VF appears twice. */
static unsigned snapshot_leases(const struct test_daemon *d, struct held *out, unsigned max)
{
	struct vfpool_snapshot *s;
	unsigned n = 0;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		cr_assert_eq(vfpool_snapshot_vf(s, i, &v), 0);
		if (v.status != VFPOOL_VF_STATUS_LEASED)
			continue;
		cr_assert_lt(n, max);
		for (unsigned k = 0; k < n; k++) {
			cr_assert(strcmp(out[k].pci, v.pci_addr) != 0, "%s leased twice", v.pci_addr);
			cr_assert(strcmp(out[k].vm, v.vm_id) || strcmp(out[k].vnic, v.vnic_id),
				  "%s/%s holds two VFs", v.vm_id, v.vnic_id);
		}
		snprintf(out[n].vm, sizeof(out[n].vm), "%s", v.vm_id);
		snprintf(out[n].vnic, sizeof(out[n].vnic), "%s", v.vnic_id);
		snprintf(out[n].pci, sizeof(out[n].pci), "%s", v.pci_addr);
		out[n].gen = (unsigned long long)v.generation;
		n++;
	}
	vfpool_snapshot_free(s);
	return n;
}

static const struct held *find(const struct held *h, unsigned n, const char *vm, const char *vnic)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(h[i].vm, vm) == 0 && strcmp(h[i].vnic, vnic) == 0)
			return &h[i];
	return NULL;
}

Test(crash, acknowledged_leases_survive_sigkill_and_releases_stay_released,
     .init = make_state_dir, .fini = remove_state_dir)
{
	static struct held before[64], after[64];
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char vnic[32];
	unsigned nb, na;

	start(&d, "2x16");
	struct vfpool *h = connect_ok(&d);
	for (int i = 0; i < 20; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
			.vm_id = "vm1", .vnic_id = vnic, .network = "red", .numa_node = -1);
		cr_assert_eq(vfpool_alloc(h, &req, &l, NULL, 0), 0);
	}
	cr_assert_eq(vfpool_release(h, "vm1", "nic3", 0, NULL, 0), 0);
	vfpool_close(h);
	nb = snapshot_leases(&d, before, 64);
	cr_assert_eq(nb, 19u);
	crash(&d);

	restart(&d, "2x16");
	na = snapshot_leases(&d, after, 64);
	cr_assert_eq(na, nb);
	for (unsigned i = 0; i < nb; i++) {
		const struct held *a = find(after, na, before[i].vm, before[i].vnic);

		cr_assert(a, "%s/%s lost in the crash", before[i].vm, before[i].vnic);
		cr_assert_str_eq(a->pci, before[i].pci);
		cr_assert_eq(a->gen, before[i].gen);
	}
	cr_assert_null(find(after, na, "vm1", "nic3"), "a released lease came back");
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(crash, generations_keep_rising_across_a_restart_so_stale_releases_are_refused,
     .init = make_state_dir, .fini = remove_state_dir)
{
	struct test_daemon d;
	struct vfpool_lease first = VFPOOL_OPTS(vfpool_lease), second = VFPOOL_OPTS(vfpool_lease);
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "nic0", .network = "red", .pin_pci = NULL,
		.numa_node = -1);

	start(&d, "1x4");
	struct vfpool *h = connect_ok(&d);
	cr_assert_eq(vfpool_alloc(h, &req, &first, NULL, 0), 0);
	vfpool_close(h);
	crash(&d);
	restart(&d, "1x4");
	h = connect_ok(&d);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", first.generation, NULL, 0), 0);
	cr_assert_eq(vfpool_alloc(h, &req, &second, NULL, 0), 0);
	cr_assert_gt(second.generation, first.generation);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", first.generation, NULL, 0), -ESTALE);
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* A client submitting batches writes "vnic pci gen" for every completion it saw; the
 * daemon is killed while it runs. */
static void batch_client(const char *run_dir, int out_fd)
{
	struct vfpool_completion done[32] = { [0 ... 31] = VFPOOL_OPTS(vfpool_completion) };
	struct vfpool *h;
	char vnic[32], line[96];
	int next = 0;

	if (vfpool_connect(run_dir, NULL, &h))
		_exit(1);
	for (;;) {
		for (int i = 0; i < 16; i++, next++) {
			snprintf(vnic, sizeof(vnic), "n%d", next);
			struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
				.vm_id = "vmb", .vnic_id = vnic, .network = "red", .numa_node = -1);
			if (vfpool_submit_alloc(h, &req, (uint64_t)next))
				_exit(2);
		}
		vfpool_flush(h);
		for (int got = 0; got < 16;) {
			int n = vfpool_reap(h, done, 32, 1, 5000);

			if (n < 0)
				_exit(0); /* the daemon is gone */
			for (int k = 0; k < n; k++) {
				if (done[k].res)
					continue;
				int len = snprintf(line, sizeof(line), "n%llu %s %llu\n",
						   (unsigned long long)done[k].user_data,
						   done[k].lease.pci_addr,
						   (unsigned long long)done[k].lease.generation);
				if (write(out_fd, line, (size_t)len) != len)
					_exit(3);
			}
			got += n;
		}
		if (next >= 240)
			next = 0; /* existing leases answer again: still acknowledged */
	}
}

Test(crash, sigkill_mid_batch_loses_no_acknowledged_lease, .init = make_state_dir,
     .fini = remove_state_dir)
{
	static struct held after[512];
	struct test_daemon d;
	char path[128], line[128];
	unsigned acked = 0, na;
	FILE *f;
	int fd, status;
	pid_t child;

	for (int round = 0; round < 3; round++) {
		start(&d, "4x64");
		snprintf(path, sizeof(path), "%s/acked.%d", state_dir, round);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		cr_assert(fd >= 0);
		child = fork();
		cr_assert(child >= 0);
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			batch_client(d.run_dir, fd);
		}
		close(fd);
		/* kill at a different point of the run each round (the order of events, not
		 * their timing, is what the test asserts) */
		usleep(20000 + (useconds_t)round * 17000);
		crash(&d);
		waitpid(child, &status, 0);
		restart(&d, "4x64");
		na = snapshot_leases(&d, after, 512);
		f = fopen(path, "r");
		cr_assert(f);
		while (fgets(line, sizeof(line), f)) {
			char vnic[32], pci[16];
			unsigned long long gen;
			const struct held *a;

			if (!strchr(line, '\n') || sscanf(line, "%31s %15s %llu", vnic, pci, &gen) != 3)
				continue; /* the client was killed mid-line */
			a = find(after, na, "vmb", vnic);
			cr_assert(a, "round %d: vmb/%s acknowledged (%s gen %llu) but lost", round,
				  vnic, pci, gen);
			cr_assert_str_eq(a->pci, pci);
			acked++;
		}
		fclose(f);
		cr_assert_eq(test_daemon_stop(&d), 0);
	}
	cr_assert_gt(acked, 0u, "the client never got an answer before the kill");
}

Test(limits, vm_past_its_lease_limit_is_refused_with_edquot)
{
	struct test_daemon d;
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "";

	test_daemon_start(&d, "1x8", "--max-leases-per-vm", "2", NULL);
	struct vfpool *h = connect_ok(&d);
	struct vfpool_alloc_req a = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = "vm1", .vnic_id = "a", .network = "red", .numa_node = -1);
	struct vfpool_alloc_req b = a, c = a, other = a;
	b.vnic_id = "b";
	c.vnic_id = "c";
	other.vm_id = "vm2";
	cr_assert_eq(vfpool_alloc(h, &a, &l, NULL, 0), 0);
	cr_assert_eq(vfpool_alloc(h, &b, &l, NULL, 0), 0);
	cr_assert_eq(vfpool_alloc(h, &c, &l, why, sizeof(why)), -EDQUOT);
	cr_assert_str_eq(why, "vm1: 2 leases, the limit");
	cr_assert_eq(vfpool_alloc(h, &other, &l, NULL, 0), 0, "another VM is not limited");
	cr_assert_eq(vfpool_release(h, "vm1", "a", 0, NULL, 0), 0);
	cr_assert_eq(vfpool_alloc(h, &c, &l, NULL, 0), 0, "a release makes room again");
	vfpool_close(h);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
