/* SPDX-License-Identifier: MIT */
/*
 * The host watch's listeners, on a umockdev testbed (tests/fixtures/host_two_vendors:
 * ens2f0 is 0000:5e:00.0, 4 slots, VFs 5e:00.2 and 5e:00.3) with a state segment, an
 * engine and an io_uring of the test's own, no daemon: the test plays the kernel
 * (tests/fake_kernel.h) and runs the ring until the watch has handled the burst.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/host/host_watch.h"
#include "core/host/pf_select_cmd.h"
#include "core/loop.h"
#include "core/model/pool.h"
#include "core/model/state_segment.h"
#include "shm/state.h"
#include "tests/fake_kernel.h"
#include "tests/state_dir.h"
#include "tests/udev_testbed.h"

#include "core/base/container_of.h"

#define MLX "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0"
#define MLX_PF 2u /* PFs ascend by PCI address */
#define MLX_SLOTS 4u

struct bed {
	UMockdevTestbed *tb;
	struct host_watch *w;
	struct host *model;
	void *mem;
	struct engine e;
	struct io_uring ring;
	bool stop;
};

static struct bed b;

/* A listener that notes what it hears and, while asked to, keeps the MLX PF busy. */
struct follower {
	struct host_watch_listener l;
	bool keep_busy;
	unsigned busy_asked;
	unsigned heard;
	struct host_change changes[16];
	unsigned present_when_heard[16]; /* MLX slots present in the pool at that moment */
};

static unsigned mlx_present(void)
{
	unsigned n = 0;

	for (uint32_t s = 0; s < MLX_SLOTS; s++)
		n += !pool_is_blocked(&b.e.pool.pfs[MLX_PF], s, VFPOOL_BLOCK_ABSENT);
	return n;
}

static void follower_busy(struct host_watch_listener *l, const struct host *model, bool *busy)
{
	struct follower *f = container_of(l, struct follower, l);

	f->busy_asked++;
	cr_assert_gt(model->n_pfs, MLX_PF);
	if (f->keep_busy)
		busy[MLX_PF] = strcmp(model->pfs[MLX_PF].pci_addr, "0000:5e:00.0") == 0;
}

static void follower_changed(struct host_watch_listener *l, const struct host_change *c)
{
	struct follower *f = container_of(l, struct follower, l);

	if (f->heard < 16) {
		f->changes[f->heard] = *c;
		f->present_when_heard[f->heard] = mlx_present();
	}
	f->heard++;
}

static void follower_init(struct follower *f)
{
	memset(f, 0, sizeof(*f));
	f->l.busy = follower_busy;
	f->l.changed = follower_changed;
}

static void setup(void)
{
	size_t size;

	memset(&b, 0, sizeof(b));
	b.tb = testbed_from_fixture("host_two_vendors.umockdev");
	cr_assert_eq(host_watch_open(NULL, &b.w, &b.model), 0);
	cr_assert_eq(b.model->n_pfs, 3u);
	cr_assert_eq(state_seg_size(b.model, &size), 0);
	b.mem = aligned_alloc(64, size);
	cr_assert(b.mem);
	memset(b.mem, 0, size);
	cr_assert_eq(state_seg_format(b.mem, size, b.model), 0);
	cr_assert_eq(engine_init(&b.e, b.mem), 0);
	cr_assert_eq(io_uring_queue_init(64, &b.ring, 0), 0);
	host_watch_attach(b.w, &(struct host_watch_loop){ .ring = &b.ring, .engine = &b.e,
							  .model = &b.model, .stop = &b.stop });
}

static void teardown(void)
{
	if (!b.tb)
		return; /* skipped before the set-up */
	io_uring_queue_exit(&b.ring);
	host_watch_free(b.w);
	engine_fini(&b.e);
	free(b.mem);
	host_free(b.model);
	g_object_unref(b.tb);
}

TestSuite(host_watch, .init = setup, .fini = teardown);

/* Runs the ring until f has heard n changes. The wait's bound only keeps a broken test
 * from hanging: the events are queued before this runs. */
static void run_until_heard(const struct follower *f, unsigned n)
{
	while (f->heard < n) {
		struct __kernel_timespec ts = { .tv_sec = 5 };
		struct io_uring_cqe *cqe;
		struct io_uring_cqe copy;
		struct loop_op *op;

		io_uring_submit(&b.ring);
		cr_assert_eq(io_uring_wait_cqe_timeout(&b.ring, &cqe, &ts), 0,
			     "the watch handled no event (heard %u of %u)", f->heard, n);
		copy = *cqe;
		op = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&b.ring, cqe);
		op->complete(op, &copy);
	}
}

/* The kernel's side of writing n to ens2f0's sriov_numvfs. */
static void set_mlx_numvfs(const char *n)
{
	umockdev_testbed_set_attribute(b.tb, MLX, "sriov_numvfs", n);
	fake_kernel_apply(b.tb, MLX);
}

static bool heard_about(const struct follower *f, enum host_change_kind kind, const char *pci)
{
	for (unsigned i = 0; i < f->heard && i < 16; i++)
		if (f->changes[i].kind == kind && strcmp(f->changes[i].pci_addr, pci) == 0)
			return true;
	return false;
}

Test(host_watch, listener_hears_each_change_once_the_burst_is_applied)
{
	struct follower f;

	follower_init(&f);
	host_watch_listen(b.w, &f.l);
	cr_assert_eq(mlx_present(), 2u);
	set_mlx_numvfs("0");
	run_until_heard(&f, 2);
	cr_assert(heard_about(&f, HOST_VF_REMOVED, "0000:5e:00.2"));
	cr_assert(heard_about(&f, HOST_VF_REMOVED, "0000:5e:00.3"));
	/* applied first: when the first change is heard, both VFs are already gone */
	cr_assert_eq(f.present_when_heard[0], 0u);
	cr_assert_eq(f.present_when_heard[1], 0u);
	cr_assert_geq(f.busy_asked, 1u, "the discovery did not ask which PFs are busy");
	cr_assert_eq(b.model->pfs[MLX_PF].num_vfs, 0u);
}

Test(host_watch, a_busy_pf_keeps_its_new_vfs_absent_until_it_is_free)
{
	struct follower f;

	follower_init(&f);
	host_watch_listen(b.w, &f.l);
	set_mlx_numvfs("0");
	run_until_heard(&f, 2);
	f.keep_busy = true;
	set_mlx_numvfs("4");
	run_until_heard(&f, 6);
	cr_assert(heard_about(&f, HOST_VF_ADDED, "0000:5e:00.5"));
	cr_assert_eq(mlx_present(), 0u, "a busy PF's new VFs reached the allocator");
	/* the same discovery with the PF free: the four VFs are there */
	f.keep_busy = false;
	cr_assert_eq(host_watch_resync(b.w), 0);
	cr_assert_eq(mlx_present(), MLX_SLOTS);
}

Test(host_watch, a_listener_that_left_hears_nothing_and_the_others_still_do)
{
	struct follower stays, leaves;

	follower_init(&stays);
	follower_init(&leaves);
	host_watch_listen(b.w, &leaves.l);
	host_watch_listen(b.w, &stays.l);
	host_watch_unlisten(b.w, &leaves.l);
	set_mlx_numvfs("0");
	run_until_heard(&stays, 2);
	cr_assert_eq(leaves.heard, 0u);
	cr_assert_eq(leaves.busy_asked, 0u);
}

/* The SIGHUP hook: the file is read again and applied; one that does not parse is refused
 * and the selectors in force stay. */
Test(host_watch, pf_selectors_reload_applies_the_file_and_refuses_a_broken_one)
{
	struct pf_select_cmd_ctx ctx = { .watch = b.w, .engine = &b.e };
	char dir[64], path[128];
	FILE *f;

	state_dir_make(dir, sizeof(dir));
	ctx.state_dir = dir;
	snprintf(path, sizeof(path), "%s/pf-selectors", dir);
	cr_assert_eq(mlx_present(), 2u);
	f = fopen(path, "we");
	cr_assert(f);
	fputs("exclude pf=ens2f0\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(pf_selectors_reload(&ctx), 0);
	cr_assert_eq(mlx_present(), 0u, "the excluded PF's VFs are still in the pool");
	cr_assert(state_pfs(b.e.hdr)[MLX_PF].flags & VFPOOL_PF_F_GONE);
	cr_assert_eq(host_watch_unmanaged_pfs(b.w), 1u);
	f = fopen(path, "we");
	cr_assert(f);
	fputs("exclude pf=ens2f0\ninclude vfs=9-1\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(pf_selectors_reload(&ctx), -EINVAL);
	cr_assert_eq(host_watch_selectors(b.w)->n, 1u, "a broken file replaced the selectors");
	cr_assert_eq(mlx_present(), 0u);
	unlink(path);
	cr_assert_eq(pf_selectors_reload(&ctx), 0, "no file: the default");
	cr_assert_eq(mlx_present(), 2u);
	cr_assert_eq(state_pfs(b.e.hdr)[MLX_PF].flags & VFPOOL_PF_F_GONE, 0u);
	state_dir_remove(dir);
}
