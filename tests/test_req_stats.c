/* SPDX-License-Identifier: MIT */
/* Request statistics in the state header: error kinds, the latency bucket of a service
 * time, and what the engine counts for single requests, rejects and chains. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/req_stats.h"
#include "core/model/state_segment.h"

static uint64_t kind_count(const struct vfpool_state_hdr *h, enum vfpool_err_kind k)
{
	return atomic_load(&h->errors_by_kind[k]);
}

Test(req_stats, latency_bucket_i_holds_times_under_2_pow_i_plus_7_ns)
{
	cr_assert_eq(req_latency_bucket(0), 0u);
	cr_assert_eq(req_latency_bucket(127), 0u);
	cr_assert_eq(req_latency_bucket(128), 1u);
	cr_assert_eq(req_latency_bucket(255), 1u);
	cr_assert_eq(req_latency_bucket(256), 2u);
	cr_assert_eq(req_latency_bucket((UINT64_C(1) << 21) - 1), 14u);
}

Test(req_stats, latency_beyond_the_last_bound_lands_in_the_last_bucket)
{
	cr_assert_eq(req_latency_bucket(UINT64_C(1) << 21), VFPOOL_LAT_BUCKETS - 1);
	cr_assert_eq(req_latency_bucket(UINT64_MAX), VFPOOL_LAT_BUCKETS - 1);
}

Test(req_stats, errno_of_a_failed_completion_names_its_kind)
{
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -ENOSPC), VFPOOL_ERR_NO_VF);
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -EPERM), VFPOOL_ERR_BLOCKED);
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -EBUSY), VFPOOL_ERR_BUSY);
	cr_assert_eq(req_err_kind(VFPOOL_OP_RELEASE, -ENOENT), VFPOOL_ERR_NO_LEASE);
	cr_assert_eq(req_err_kind(VFPOOL_OP_RELEASE, -ESTALE), VFPOOL_ERR_STALE);
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -EEXIST), VFPOOL_ERR_CONFLICT);
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -EDQUOT), VFPOOL_ERR_QUOTA);
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -ENODEV), VFPOOL_ERR_OTHER);
}

Test(req_stats, an_undefined_network_on_alloc_is_not_a_missing_lease)
{
	cr_assert_eq(req_err_kind(VFPOOL_OP_ALLOC, -ENOENT), VFPOOL_ERR_OTHER);
}

Test(req_stats, counting_errors_bumps_the_kind_and_the_total)
{
	static struct vfpool_state_hdr h;

	req_stats_errors(&h, VFPOOL_ERR_STALE, 2);
	req_stats_errors(&h, VFPOOL_ERR_NR + 3, 1); /* out of range: other */
	cr_assert_eq(atomic_load(&h.errors), 3u);
	cr_assert_eq(kind_count(&h, VFPOOL_ERR_STALE), 2u);
	cr_assert_eq(kind_count(&h, VFPOOL_ERR_OTHER), 1u);
}

struct fixture {
	struct host *host;
	void *mem;
	struct engine e;
};

static void setup(struct fixture *f, unsigned vfs)
{
	size_t size;

	cr_assert_eq(host_simulate(1, vfs, &f->host), 0);
	cr_assert_eq(state_seg_size(f->host, &size), 0);
	f->mem = aligned_alloc(64, size);
	cr_assert(f->mem);
	cr_assert_eq(state_seg_format(f->mem, size, f->host), 0);
	cr_assert_eq(engine_init(&f->e, f->mem), 0);
}

static void teardown(struct fixture *f)
{
	engine_fini(&f->e);
	free(f->mem);
	host_free(f->host);
}

static struct request req(enum vfpool_opcode op, const char *vm, const char *vnic)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.numa_node = -1;
	snprintf(r.vm_id, sizeof(r.vm_id), "%s", vm);
	snprintf(r.vnic_id, sizeof(r.vnic_id), "%s", vnic);
	snprintf(r.network, sizeof(r.network), "red");
	return r;
}

Test(req_stats, engine_counts_each_failed_request_under_its_kind)
{
	struct fixture f;
	struct request a = req(VFPOOL_OP_ALLOC, "vm1", "nic0");
	struct request b = req(VFPOOL_OP_ALLOC, "vm1", "nic1");
	struct request gone = req(VFPOOL_OP_RELEASE, "vm9", "nic0");
	struct vfpool_cqe c;

	setup(&f, 1);
	engine_serve(&f.e, &a, NULL, &c);
	cr_assert_eq(c.res, 0);
	engine_serve(&f.e, &b, NULL, &c);
	cr_assert_eq(c.res, -ENOSPC);
	engine_serve(&f.e, &gone, NULL, &c);
	cr_assert_eq(c.res, -ENOENT);
	engine_reject(&f.e, 7, -EINVAL, "vm_id missing", &c);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_NO_VF), 1u);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_NO_LEASE), 1u);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_REJECTED), 1u);
	cr_assert_eq(atomic_load(&f.e.hdr->errors), 3u);
	cr_assert_eq(atomic_load(&f.e.hdr->requests), 4u);
	teardown(&f);
}

Test(req_stats, a_failed_chain_counts_every_entry_under_the_failing_kind)
{
	struct fixture f;
	struct request r[3] = { req(VFPOOL_OP_ALLOC, "vm1", "nic0"),
				req(VFPOOL_OP_ALLOC, "vm1", "nic1"),
				req(VFPOOL_OP_ALLOC, "vm1", "nic2") };
	struct vfpool_cqe c[3];
	struct engine_served kept[3];

	setup(&f, 2); /* the third entry finds no VF */
	engine_serve_chain(&f.e, r, 3, NULL, c, kept);
	cr_assert_eq(c[2].res, -ENOSPC);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_NO_VF), 3u);
	cr_assert_eq(atomic_load(&f.e.hdr->errors), 3u);
	teardown(&f);
}

Test(req_stats, a_chain_holding_a_release_is_counted_as_rejected)
{
	struct fixture f;
	struct request r[2] = { req(VFPOOL_OP_ALLOC, "vm1", "nic0"),
				req(VFPOOL_OP_RELEASE, "vm1", "nic1") };
	struct vfpool_cqe c[2];
	struct engine_served kept[2];

	setup(&f, 2);
	engine_serve_chain(&f.e, r, 2, NULL, c, kept);
	cr_assert_eq(c[1].res, -EINVAL);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_REJECTED), 2u);
	cr_assert_eq(kind_count(f.e.hdr, VFPOOL_ERR_OTHER), 0u);
	teardown(&f);
}
