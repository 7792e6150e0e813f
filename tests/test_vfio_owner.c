/* SPDX-License-Identifier: MIT */
/*
 * Managed vfio-pci binding through its owner (core/vfio/vfio_owner.c) on its own io_uring,
 * as the daemon drives it, against a sysfs tree the test builds (the owner's sysfs root)
 * and a kernel the test plays: between a write's completion and its dispatch to the owner
 * (the moment the real kernel has acted, since a sysfs write returns when the driver core
 * is done), unbind drops the device's driver link and drivers_probe binds it to the driver
 * its driver_override names (vfio-pci only when "loaded"), or to its own.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/policy.h"
#include "core/model/pool.h"
#include "core/model/request.h"
#include "core/model/state_segment.h"
#include "core/vfio/vfio_owner.h"
#include "shm/state.h"
#include "tests/capture_sink.h"
#include "tests/state_dir.h"


struct rig {
	struct host *host;
	void *state;
	struct engine e;
	struct io_uring ring;
	struct vfio_owner *o;
	struct sink sink;
	char sys[64];      /* the sysfs root */
	char run[64];      /* the run dir: records under vfio/ */
	int run_fd;
	bool vfio_loaded;  /* drivers_probe with driver_override=vfio-pci binds it */
	unsigned probes;   /* drivers_probe writes the kernel saw */
};

static char pci[VFPOOL_PCI_ADDR_MAX];

static void put(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static void get(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
}

static void sys_path(const struct rig *g, char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", g->sys, rel);
}

static void dev_path(const struct rig *g, char *buf, size_t len, const char *file)
{
	snprintf(buf, len, "%s/bus/pci/devices/%s/%s", g->sys, pci, file);
}

static void mkdirs(const char *path)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

/* The VF's driver now ("" when none). */
static void driver_of(const struct rig *g, char *buf, size_t len)
{
	char path[256], target[256];
	ssize_t n;

	dev_path(g, path, sizeof(path), "driver");
	n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(buf, len, "%s", strrchr(target, '/') + 1);
	}
}

static void bind_to(const struct rig *g, const char *driver)
{
	char path[256], target[128];

	dev_path(g, path, sizeof(path), "driver");
	unlink(path);
	if (!driver)
		return;
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	cr_assert_eq(symlink(target, path), 0);
}

/* The kernel's side of whatever was written since it last looked. */
static void kernel_acts(struct rig *g)
{
	const char *drivers[] = { "ixgbevf", "vfio-pci" };
	char path[256], buf[64], override[64], cur[32];

	for (size_t i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "bus/pci/drivers/%s/unbind", drivers[i]);
		sys_path(g, path, sizeof(path), buf);
		get(path, buf, sizeof(buf));
		driver_of(g, cur, sizeof(cur));
		if (strcmp(buf, pci) == 0 && strcmp(cur, drivers[i]) == 0)
			bind_to(g, NULL);
		put(path, "");
	}
	sys_path(g, path, sizeof(path), "bus/pci/drivers_probe");
	get(path, buf, sizeof(buf));
	if (strcmp(buf, pci) == 0) {
		g->probes++;
		dev_path(g, path, sizeof(path), "driver_override");
		get(path, override, sizeof(override));
		override[strcspn(override, "\n")] = '\0';
		driver_of(g, cur, sizeof(cur));
		if (!cur[0]) {
			if (!override[0])
				bind_to(g, "ixgbevf");
			else if (strcmp(override, "vfio-pci") == 0 && g->vfio_loaded)
				bind_to(g, "vfio-pci");
		}
		sys_path(g, path, sizeof(path), "bus/pci/drivers_probe");
		put(path, "");
	}
}

/* One turn of the daemon's loop, the kernel acting before the owner hears of a write. */
static void turn(struct rig *g)
{
	struct io_uring_cqe *cqe;

	cr_assert_geq(io_uring_submit_and_wait(&g->ring, 1), 0);
	kernel_acts(g);
	while (io_uring_peek_cqe(&g->ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		struct io_uring_cqe copy = *cqe;

		io_uring_cqe_seen(&g->ring, cqe);
		if (op)
			op->complete(op, &copy);
	}
}

static void run_until_idle(struct rig *g)
{
	for (int i = 0; i < 100 && vfio_owner_busy(g->o); i++)
		turn(g);
	cr_assert_eq(vfio_owner_busy(g->o), 0u, "the owner finished its work");
}

/* VF 0 of a one-PF host, on ixgbevf, alone in IOMMU group 7 (others: more devices). */
static void sysfs_build(struct rig *g, unsigned group_devices)
{
	char path[256], rel[128];

	state_dir_make(g->sys, sizeof(g->sys));
	dev_path(g, path, sizeof(path), "");
	mkdirs(path);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", i ? "vfio-pci" : "ixgbevf");
		sys_path(g, path, sizeof(path), rel);
		mkdirs(path);
		strcat(path, "/unbind");
		put(path, "");
	}
	sys_path(g, path, sizeof(path), "bus/pci/drivers_probe");
	put(path, "");
	dev_path(g, path, sizeof(path), "driver_override");
	put(path, "(null)\n");
	bind_to(g, "ixgbevf");
	sys_path(g, path, sizeof(path), "kernel/iommu_groups/7/devices");
	mkdirs(path);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/7/devices/%s", pci);
	sys_path(g, path, sizeof(path), rel);
	put(path, "");
	if (group_devices > 1) {
		sys_path(g, path, sizeof(path), "kernel/iommu_groups/7/devices/0000:00:1f.0");
		put(path, "");
	}
	sys_path(g, rel, sizeof(rel), "kernel/iommu_groups/7");
	dev_path(g, path, sizeof(path), "iommu_group");
	cr_assert_eq(symlink(rel, path), 0);
}

static void rig_setup(struct rig *g, unsigned group_devices, bool udev_host)
{
	struct vfio_owner_opts o;
	size_t size;

	memset(g, 0, sizeof(*g));
	g->vfio_loaded = true;
	cr_assert_eq(host_simulate(1, 4, &g->host), 0);
	cr_assert_eq(state_seg_size(g->host, &size), 0);
	g->state = aligned_alloc(64, size);
	cr_assert_eq(state_seg_format(g->state, size, g->host), 0);
	cr_assert_eq(engine_init(&g->e, g->state), 0);
	if (udev_host)
		g->e.hdr->host_kind = VFPOOL_HOST_UDEV;
	snprintf(pci, sizeof(pci), "%s", state_vfs(g->e.hdr)[0].pci_addr);
	sysfs_build(g, group_devices);
	state_dir_make(g->run, sizeof(g->run));
	g->run_fd = open(g->run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(g->run_fd, 0);
	cr_assert_eq(io_uring_queue_init(64, &g->ring, 0), 0);
	o = (struct vfio_owner_opts){ .ring = &g->ring, .engine = &g->e, .run_dir_fd = g->run_fd,
				      .sysfs = g->sys };
	cr_assert_eq(vfio_owner_new(&o, &g->o), 0);
	g->sink.s.post = on_post;
}

/* A restart: a new owner over the same engine, sysfs and run dir. */
static void rig_restart_owner(struct rig *g)
{
	struct vfio_owner_opts o = { .ring = &g->ring, .engine = &g->e, .run_dir_fd = g->run_fd,
				     .sysfs = g->sys };

	vfio_owner_free(g->o);
	cr_assert_eq(vfio_owner_new(&o, &g->o), 0);
}

static void rig_teardown(struct rig *g)
{
	io_uring_queue_exit(&g->ring);
	vfio_owner_free(g->o);
	close(g->run_fd);
	engine_fini(&g->e);
	free(g->state);
	host_free(g->host);
	state_dir_remove(g->sys);
	state_dir_remove(g->run);
}

static struct engine_served alloc(struct rig *g, uint32_t flags, struct vfpool_cqe *ret)
{
	struct request r = { .user_data = 9, .op = VFPOOL_OP_ALLOC, .numa_node = -1,
			     .flags = VFPOOL_REQ_F_PIN | flags, .uid = 0, .admin = true };

	strcpy(r.vm_id, "vm1");
	strcpy(r.vnic_id, "nic0");
	strcpy(r.network, "red");
	snprintf(r.pin_pci, sizeof(r.pin_pci), "%s", pci);
	return engine_serve(&g->e, &r, &g->sink.s, ret);
}

static int release(struct rig *g, struct vfpool_cqe *ret)
{
	struct request r = { .user_data = 10, .op = VFPOOL_OP_RELEASE, .numa_node = -1,
			     .uid = 0, .admin = true };

	strcpy(r.vm_id, "vm1");
	strcpy(r.vnic_id, "nic0");
	return engine_serve(&g->e, &r, &g->sink.s, ret).later;
}

static uint32_t allocatable(struct rig *g)
{
	struct pf_block_counts c;

	pool_pf_count(&g->e.pool.pfs[0], &c);
	return c.allocatable;
}

static bool record_exists(const struct rig *g, char *content, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/vfio/%s", g->run, pci);
	get(path, content, len);
	return access(path, F_OK) == 0;
}

static void expect_driver(const struct rig *g, const char *want)
{
	char cur[32];

	driver_of(g, cur, sizeof(cur));
	cr_assert_str_eq(cur, want, "the VF's driver is %s, not %s", cur[0] ? cur : "none",
			 want[0] ? want : "none");
}

static void expect_override(const struct rig *g, const char *want)
{
	char path[256], buf[64];

	dev_path(g, path, sizeof(path), "driver_override");
	get(path, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

/* Allocates with vfio and runs the binding to its end. */
static void bind_vf(struct rig *g)
{
	struct vfpool_cqe now;

	cr_assert_eq(alloc(g, VFPOOL_REQ_F_VFIO, &now).later, 1, "completes once bound");
	run_until_idle(g);
	cr_assert_eq(g->sink.posted, 1);
	cr_assert_eq(g->sink.cqe.res, 0, "%s", g->sink.cqe.message);
}

Test(vfio_owner, an_allocation_with_vfio_binds_the_vf_and_its_completion_names_the_group)
{
	char rec[64];
	struct rig g;

	rig_setup(&g, 1, true);
	bind_vf(&g);
	cr_assert(g.sink.cqe.flags & VFPOOL_CQE_F_VFIO, "the completion says vfpool bound it");
	cr_assert_eq(g.sink.cqe.iommu_group, 7, "its group: /dev/vfio/7");
	expect_driver(&g, "vfio-pci");
	expect_override(&g, "vfio-pci");
	cr_assert(record_exists(&g, rec, sizeof(rec)), "the original driver is recorded");
	cr_assert_str_eq(rec, "driver=ixgbevf\n");
	cr_assert(state_vfs(g.e.hdr)[0].lease_flags & VFPOOL_LEASE_F_VFIO);
	rig_teardown(&g);
}

Test(vfio_owner, a_release_gives_the_vf_back_to_its_driver_before_it_is_free)
{
	struct vfpool_cqe now;
	char rec[64];
	struct rig g;

	rig_setup(&g, 1, true);
	bind_vf(&g);
	cr_assert_eq(allocatable(&g), 3u);
	cr_assert_eq(release(&g, &now), 0);
	cr_assert_eq(now.res, 0);
	cr_assert_eq(allocatable(&g), 3u, "held while it goes back to ixgbevf");
	run_until_idle(&g);
	expect_driver(&g, "ixgbevf");
	expect_override(&g, "\n");
	cr_assert_not(record_exists(&g, rec, sizeof(rec)), "the record is gone");
	cr_assert_eq(allocatable(&g), 4u, "free again once on its driver");
	cr_assert_not(state_vfs(g.e.hdr)[0].lease_flags & VFPOOL_LEASE_F_VFIO);
	rig_teardown(&g);
}

Test(vfio_owner, a_vf_whose_iommu_group_holds_another_device_is_never_bound)
{
	struct vfpool_cqe now;
	char rec[64];
	struct rig g;

	rig_setup(&g, 2, true);
	alloc(&g, VFPOOL_REQ_F_VFIO, &now);
	run_until_idle(&g);
	cr_assert_eq(now.res, -EBUSY, "refused at once: %s", now.message);
	cr_assert(strstr(now.message, pci) && strstr(now.message, "0000:00:1f.0"),
		  "names the VF and the other device: %s", now.message);
	expect_driver(&g, "ixgbevf");
	expect_override(&g, "(null)\n");
	cr_assert_not(record_exists(&g, rec, sizeof(rec)));
	cr_assert_eq(allocatable(&g), 4u, "the lease is undone");
	rig_teardown(&g);
}

Test(vfio_owner, a_bind_vfio_pci_does_not_take_is_rolled_back_and_the_lease_undone)
{
	struct vfpool_cqe now;
	char rec[64];
	struct rig g;

	rig_setup(&g, 1, true);
	g.vfio_loaded = false;
	cr_assert_eq(alloc(&g, VFPOOL_REQ_F_VFIO, &now).later, 1);
	run_until_idle(&g);
	cr_assert_eq(g.sink.posted, 1);
	cr_assert_eq(g.sink.cqe.res, -ENXIO, "%s", g.sink.cqe.message);
	cr_assert(strstr(g.sink.cqe.message, "vfio-pci"), "%s", g.sink.cqe.message);
	expect_driver(&g, "ixgbevf");
	expect_override(&g, "\n");
	cr_assert_not(record_exists(&g, rec, sizeof(rec)));
	cr_assert_eq(allocatable(&g), 4u, "the lease is undone");
	rig_teardown(&g);
}

Test(vfio_owner, an_allocation_without_vfio_writes_nothing)
{
	struct vfpool_cqe now;
	struct rig g;

	rig_setup(&g, 1, true);
	alloc(&g, 0, &now);
	cr_assert_eq(now.res, 0);
	cr_assert_not(now.flags & VFPOOL_CQE_F_VFIO);
	cr_assert_eq(vfio_owner_busy(g.o), 0u);
	expect_driver(&g, "ixgbevf");
	expect_override(&g, "(null)\n");
	rig_teardown(&g);
}

Test(vfio_owner, a_simulated_host_refuses_vfio)
{
	struct vfpool_cqe now;
	struct rig g;

	rig_setup(&g, 1, false);
	alloc(&g, VFPOOL_REQ_F_VFIO, &now);
	cr_assert_eq(now.res, -EOPNOTSUPP, "%s", now.message);
	cr_assert_eq(allocatable(&g), 4u);
	rig_teardown(&g);
}

Test(vfio_owner, a_restart_gives_a_free_vf_left_on_vfio_pci_back_before_anyone_has_it)
{
	struct vfpool_cqe now;
	char path[256], rec[64];
	struct rig g;

	rig_setup(&g, 1, true);
	/* a crash after the bind of a lease whose release was durable: free, on vfio-pci */
	bind_vf(&g);
	cr_assert_eq(release(&g, &now), 0);
	io_uring_queue_exit(&g.ring); /* the crash: nothing of the unbind ran */
	cr_assert_eq(io_uring_queue_init(64, &g.ring, 0), 0);
	expect_driver(&g, "vfio-pci");
	engine_return_vf(&g.e, 0); /* the new daemon's pool: nobody holds it */
	rig_restart_owner(&g);
	vfio_owner_recover(g.o);
	cr_assert_eq(allocatable(&g), 3u, "held until it is back on its driver");
	run_until_idle(&g);
	expect_driver(&g, "ixgbevf");
	cr_assert_not(record_exists(&g, rec, sizeof(rec)));
	cr_assert_eq(allocatable(&g), 4u);
	dev_path(&g, path, sizeof(path), "driver_override");
	expect_override(&g, "\n");
	rig_teardown(&g);
}

Test(vfio_owner, a_restart_finishes_the_bind_of_a_lease_a_crash_cut_short)
{
	char rec[64];
	struct vfpool_cqe now;
	struct rig g;

	rig_setup(&g, 1, true);
	/* the crash came after the unbind of ixgbevf, before the probe */
	alloc(&g, VFPOOL_REQ_F_VFIO, &now);
	while (g.probes == 0) {
		char cur[32];

		turn(&g);
		driver_of(&g, cur, sizeof(cur));
		if (!cur[0])
			break;
	}
	expect_driver(&g, "");
	io_uring_queue_exit(&g.ring);
	cr_assert_eq(io_uring_queue_init(64, &g.ring, 0), 0);
	g.sink.posted = 0;
	rig_restart_owner(&g);
	vfio_owner_recover(g.o);
	run_until_idle(&g);
	expect_driver(&g, "vfio-pci");
	cr_assert(record_exists(&g, rec, sizeof(rec)));
	cr_assert_str_eq(rec, "driver=ixgbevf\n", "the driver from before the crash");
	cr_assert_eq(g.sink.posted, 0, "the lost request is not answered twice");
	/* and it goes back at release as any other */
	cr_assert_eq(release(&g, &now), 0);
	run_until_idle(&g);
	expect_driver(&g, "ixgbevf");
	cr_assert_eq(allocatable(&g), 4u);
	rig_teardown(&g);
}

Test(vfio_owner, a_lease_served_again_says_it_is_bound)
{
	struct vfpool_cqe now;
	struct rig g;

	rig_setup(&g, 1, true);
	bind_vf(&g);
	alloc(&g, VFPOOL_REQ_F_VFIO, &now);
	cr_assert_eq(now.res, 0, "%s", now.message);
	cr_assert(now.flags & VFPOOL_CQE_F_EXISTING);
	cr_assert(now.flags & VFPOOL_CQE_F_VFIO);
	rig_teardown(&g);
}

Test(vfio_owner, a_lease_made_through_a_vfio_profile_is_bound)
{
	const char pcis[1][VFPOOL_PCI_ADDR_MAX] = { "0000:3b:00.0" };
	const char devs[1][VFPOOL_IFNAME_MAX] = { "ens1f0" };
	struct policy_network net = { .name = "red" };
	struct policy_profile pr = { .name = "direct", .network = "red",
				     .passthrough = POLICY_PT_MANDATORY, .vfio = true };
	struct request r = { .user_data = 9, .op = VFPOOL_OP_ALLOC, .numa_node = -1,
			     .flags = VFPOOL_REQ_F_PIN | VFPOOL_REQ_F_PROFILE, .admin = true };
	struct vfpool_cqe now;
	struct policy pol;
	char why[160];
	struct rig g;

	rig_setup(&g, 1, true);
	cr_assert_eq(policy_init(&pol, 1, pcis, devs), 0);
	cr_assert_eq(policy_network_add(&pol, &net, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_profile_add(&pol, &pr, why, sizeof(why)), 0, "%s", why);
	g.e.policy = &pol;
	strcpy(r.vm_id, "vm1");
	strcpy(r.vnic_id, "nic0");
	strcpy(r.profile, "direct");
	snprintf(r.pin_pci, sizeof(r.pin_pci), "%s", pci);
	cr_assert_eq(engine_serve(&g.e, &r, &g.sink.s, &now).later, 1, "%s", now.message);
	run_until_idle(&g);
	cr_assert_eq(g.sink.cqe.res, 0, "%s", g.sink.cqe.message);
	cr_assert(g.sink.cqe.flags & VFPOOL_CQE_F_VFIO);
	expect_driver(&g, "vfio-pci");
	g.e.policy = NULL;
	policy_fini(&pol);
	rig_teardown(&g);
}

Test(vfio_owner, a_vf_a_restart_is_giving_back_is_nobodys_even_once_unblocked)
{
	struct vfpool_cqe now;
	struct rig g;

	rig_setup(&g, 1, true);
	bind_vf(&g);
	cr_assert_eq(release(&g, &now), 0);
	io_uring_queue_exit(&g.ring); /* the crash: nothing of the unbind ran */
	cr_assert_eq(io_uring_queue_init(64, &g.ring, 0), 0);
	engine_return_vf(&g.e, 0);
	/* the new daemon's discovery found it on vfio-pci without a lease */
	pool_set_blocked(&g.e.pool.pfs[0], 0, VFPOOL_BLOCK_BOUND_OTHER, true);
	rig_restart_owner(&g);
	vfio_owner_recover(g.o);
	cr_assert_gt(vfio_owner_busy(g.o), 0u, "the give-back is under way");
	/* its unbind event reaches discovery before the give-back is over */
	pool_set_blocked(&g.e.pool.pfs[0], 0, VFPOOL_BLOCK_BOUND_OTHER, false);
	alloc(&g, 0, &now);
	cr_assert_eq(now.res, -EBUSY, "%s", now.message);
	cr_assert(strstr(now.message, "being given back"), "%s", now.message);
	run_until_idle(&g);
	expect_driver(&g, "ixgbevf");
	alloc(&g, 0, &now);
	cr_assert_eq(now.res, 0, "free once given back: %s", now.message);
	rig_teardown(&g);
}
