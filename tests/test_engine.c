/* SPDX-License-Identifier: MIT */
/* The allocation engine on a state segment in malloc'd memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/lease_index.h"
#include "core/model/state_segment.h"
#include "shm/state.h"

struct fixture {
	struct host *host;
	void *mem;
	struct engine e;
};

static void setup_host(struct fixture *f, unsigned pfs, unsigned vfs)
{
	size_t size;

	cr_assert_eq(host_simulate(pfs, vfs, &f->host), 0);
	cr_assert_eq(state_seg_size(f->host, &size), 0);
	f->mem = aligned_alloc(64, size);
	cr_assert(f->mem);
	cr_assert_eq(state_seg_format(f->mem, size, f->host), 0);
	cr_assert_eq(engine_init(&f->e, f->mem), 0);
}

static void teardown_host(struct fixture *f)
{
	engine_fini(&f->e);
	free(f->mem);
	host_free(f->host);
}

static struct request alloc_req(const char *vm, const char *vnic, const char *net)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.op = VFPOOL_OP_ALLOC;
	r.numa_node = -1;
	snprintf(r.vm_id, sizeof(r.vm_id), "%s", vm);
	snprintf(r.vnic_id, sizeof(r.vnic_id), "%s", vnic);
	snprintf(r.network, sizeof(r.network), "%s", net);
	return r;
}

static struct request release_req(const char *vm, const char *vnic, uint64_t gen)
{
	struct request r = alloc_req(vm, vnic, "");

	r.op = VFPOOL_OP_RELEASE;
	if (gen) {
		r.flags = VFPOOL_REQ_F_GEN;
		r.generation = gen;
	}
	return r;
}

Test(engine, alloc_records_the_lease_in_the_state_segment)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe c;

	setup_host(&f, 2, 16);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	const struct vfpool_shm_vf *vf = &state_vfs(f.e.hdr)[c.vf_slot];
	cr_assert_eq(vf->state, VFPOOL_VF_LEASED);
	cr_assert_str_eq(vf->vm_id, "vm1");
	cr_assert_str_eq(vf->vnic_id, "nic0");
	cr_assert_str_eq(vf->network, "red");
	cr_assert_eq(vf->lease_gen, c.generation);
	cr_assert_str_eq(c.pci_addr, vf->pci_addr);
	cr_assert(pool_is_leased(&f.e.pool.pfs[c.pf_index], c.vf_index));
	cr_assert_eq(atomic_load(&f.e.hdr->seq) % 2, 0u, "seqlock left open");
	teardown_host(&f);
}

Test(engine, repeated_alloc_of_a_vnic_returns_its_existing_lease)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe a, b;

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &r, NULL, &a);
	engine_serve(&f.e, &r, NULL, &b);
	cr_assert_eq(b.res, 0);
	cr_assert(b.flags & VFPOOL_CQE_F_EXISTING);
	cr_assert_str_eq(a.pci_addr, b.pci_addr);
	cr_assert_eq(a.generation, b.generation);
	teardown_host(&f);
}

Test(engine, alloc_of_a_leased_vnic_on_another_network_is_a_conflict)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red"), r2 = alloc_req("vm1", "nic0", "blue");
	struct vfpool_cqe c;

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &r, NULL, &c);
	engine_serve(&f.e, &r2, NULL, &c);
	cr_assert_eq(c.res, -EEXIST);
	cr_assert(strstr(c.message, "vm1/nic0: already holds"), "%s", c.message);
	teardown_host(&f);
}

/* A retry finds its lease; a request for another MAC or another VF is not a retry: it is
 * refused naming the difference, and the lease keeps what it had. */
Test(engine, alloc_of_a_held_vnic_with_another_mac_is_refused_naming_both)
{
	static const uint8_t mac1[6] = { 0x52, 0x54, 0, 0xaa, 0xbb, 1 };
	static const uint8_t mac2[6] = { 0x52, 0x54, 0, 0xaa, 0xbb, 2 };
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red"), again;
	struct vfpool_cqe a, c;
	char want[160];

	setup_host(&f, 1, 8);
	r.flags |= VFPOOL_REQ_F_MAC;
	memcpy(r.mac, mac1, 6);
	engine_serve(&f.e, &r, NULL, &a);
	cr_assert_eq(a.res, 0, "%s", a.message);
	again = r;
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, 0, "the same request again is a retry: %s", c.message);
	cr_assert(c.flags & VFPOOL_CQE_F_EXISTING);
	memcpy(again.mac, mac2, 6);
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, -EEXIST, "another MAC answered with the lease: %d %s", c.res,
		     c.message);
	snprintf(want, sizeof(want), "vm1/nic0: already holds %s with MAC 52:54:00:aa:bb:01, "
		 "not 52:54:00:aa:bb:02; release it first", a.pci_addr);
	cr_assert_str_eq(c.message, want);
	cr_assert_arr_eq(state_vfs(f.e.hdr)[a.vf_slot].mac, mac1, 6, "the lease's MAC changed");
	/* no MAC asked: nothing to differ */
	again.flags &= ~VFPOOL_REQ_F_MAC;
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	teardown_host(&f);
}

Test(engine, alloc_of_a_held_vnic_without_a_mac_asking_for_one_is_refused)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red"), again;
	struct vfpool_cqe a, c;
	char want[160];

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &r, NULL, &a);
	cr_assert_eq(a.res, 0, "%s", a.message);
	again = r;
	again.flags |= VFPOOL_REQ_F_MAC;
	memcpy(again.mac, (uint8_t[6]){ 0x52, 0x54, 0, 1, 2, 3 }, 6);
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, -EEXIST, "%s", c.message);
	snprintf(want, sizeof(want), "vm1/nic0: already holds %s with no MAC set, not "
		 "52:54:00:01:02:03; release it first", a.pci_addr);
	cr_assert_str_eq(c.message, want);
	teardown_host(&f);
}

Test(engine, alloc_of_a_held_vnic_pinned_to_another_vf_is_refused)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red"), again;
	struct vfpool_cqe a, c;
	char want[160];

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &r, NULL, &a);
	cr_assert_eq(a.res, 0, "%s", a.message);
	again = r;
	again.flags |= VFPOOL_REQ_F_PIN;
	/* another VF of the host: the next slot's */
	snprintf(again.pin_pci, sizeof(again.pin_pci), "%s",
		 state_vfs(f.e.hdr)[a.vf_slot == 0 ? 1 : 0].pci_addr);
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, -EEXIST, "%s", c.message);
	snprintf(want, sizeof(want), "vm1/nic0: already holds %s, not %s; release it first",
		 a.pci_addr, again.pin_pci);
	cr_assert_str_eq(c.message, want);
	/* pinned to the VF it holds: a retry */
	snprintf(again.pin_pci, sizeof(again.pin_pci), "%s", a.pci_addr);
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert(c.flags & VFPOOL_CQE_F_EXISTING);
	teardown_host(&f);
}

Test(engine, release_frees_the_vf_and_clears_the_record)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red"), rel = release_req("vm1", "nic0", 0);
	struct vfpool_cqe a, c;

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &r, NULL, &a);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_not(pool_is_leased(&f.e.pool.pfs[0], a.vf_index));
	cr_assert_eq(state_vfs(f.e.hdr)[a.vf_slot].state, VFPOOL_VF_FREE);
	cr_assert_str_eq(state_vfs(f.e.hdr)[a.vf_slot].vm_id, "");
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, -ENOENT);
	teardown_host(&f);
}

Test(engine, release_with_a_stale_generation_leaves_the_new_lease_alone)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe first, second, c;

	setup_host(&f, 1, 1); /* one VF: the re-lease gets the same VF */
	engine_serve(&f.e, &r, NULL, &first);
	struct request rel = release_req("vm1", "nic0", first.generation);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, 0);
	engine_serve(&f.e, &r, NULL, &second);
	cr_assert_eq(second.res, 0);
	cr_assert_neq(second.generation, first.generation);
	/* the old VM's late cleanup */
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, -ESTALE);
	cr_assert(pool_is_leased(&f.e.pool.pfs[0], 0), "stale release freed a live lease");
	teardown_host(&f);
}

Test(engine, exhaustion_names_each_pf_and_its_free_count)
{
	struct fixture f;
	struct vfpool_cqe c;
	char vnic[16];

	setup_host(&f, 2, 4); /* no index 15: nothing shared, 8 allocatable */
	for (int i = 0; i < 8; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		struct request r = alloc_req("vm1", vnic, "red");
		engine_serve(&f.e, &r, NULL, &c);
		cr_assert_eq(c.res, 0, "%s", c.message);
	}
	struct request r = alloc_req("vm2", "nic0", "red");
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -ENOSPC);
	cr_assert_str_eq(c.message, "ens1f0: 0 free of 4 VFs; ens1f1: 0 free of 4 VFs");
	teardown_host(&f);
}

Test(engine, pinned_alloc_of_an_iommu_shared_vf_says_why)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe c;

	setup_host(&f, 1, 16);
	r.flags = VFPOOL_REQ_F_PIN;
	snprintf(r.pin_pci, sizeof(r.pin_pci), "%s", state_vfs(f.e.hdr)[15].pci_addr);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	cr_assert(strstr(c.message, "IOMMU group 115 shared with"), "%s", c.message);
	teardown_host(&f);
}

Test(engine, pinned_alloc_gets_exactly_that_vf)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe c;

	setup_host(&f, 2, 16);
	r.flags = VFPOOL_REQ_F_PIN;
	snprintf(r.pin_pci, sizeof(r.pin_pci), "%s", state_vfs(f.e.hdr)[20].pci_addr);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_eq(c.vf_slot, 20u);
	struct request r2 = alloc_req("vm2", "nic0", "red");
	r2.flags = VFPOOL_REQ_F_PIN;
	memcpy(r2.pin_pci, r.pin_pci, sizeof(r.pin_pci));
	engine_serve(&f.e, &r2, NULL, &c);
	cr_assert_eq(c.res, -EBUSY);
	cr_assert(strstr(c.message, "leased to vm1/nic0"), "%s", c.message);
	teardown_host(&f);
}

Test(engine, pinned_alloc_of_an_unknown_vf_is_refused)
{
	struct fixture f;
	struct request r = alloc_req("vm1", "nic0", "red");
	struct vfpool_cqe c;

	setup_host(&f, 1, 4);
	r.flags = VFPOOL_REQ_F_PIN;
	snprintf(r.pin_pci, sizeof(r.pin_pci), "0000:99:00.0");
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -ENODEV);
	cr_assert_str_eq(c.message, "0000:99:00.0: no such VF on this host");
	teardown_host(&f);
}

/* ---- who may change a lease ---------------------------------------------------------- */

static struct request as_uid(struct request r, uint32_t uid, bool admin)
{
	r.uid = uid;
	r.admin = admin;
	return r;
}

Test(engine_rights, release_by_another_uid_is_eperm_naming_the_vm)
{
	struct fixture f;
	struct request a = as_uid(alloc_req("vm1", "nic0", "red"), 1001, false);
	struct request other = as_uid(release_req("vm1", "nic0", 0), 1002, false);
	struct vfpool_cqe made, c;

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &a, NULL, &made);
	cr_assert_eq(made.res, 0, "%s", made.message);
	engine_serve(&f.e, &other, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	cr_assert(strstr(c.message, "vm1/nic0"), "the message names the VM: %s", c.message);
	cr_assert(strstr(c.message, "1001") && strstr(c.message, "1002"), "%s", c.message);
	cr_assert_eq(state_vfs(f.e.hdr)[made.vf_slot].state, VFPOOL_VF_LEASED, "lease untouched");
	/* the generation is no key: a stale or a right one, still not its lease */
	other = as_uid(release_req("vm1", "nic0", made.generation), 1002, false);
	engine_serve(&f.e, &other, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	/* nor may another uid take it over by asking for it again */
	struct request again = as_uid(alloc_req("vm1", "nic0", "red"), 1002, false);
	engine_serve(&f.e, &again, NULL, &c);
	cr_assert_eq(c.res, -EPERM, "%s", c.message);
	teardown_host(&f);
}

Test(engine_rights, owner_root_and_admin_may_release)
{
	struct fixture f;
	struct vfpool_cqe c;
	const struct { uint32_t uid; bool admin; } who[] = { { 1001, false }, { 0, false },
							     { 1003, true } };

	setup_host(&f, 1, 8);
	for (unsigned i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		struct request a = as_uid(alloc_req("vm1", "nic0", "red"), 1001, false);
		struct request rel = as_uid(release_req("vm1", "nic0", 0), who[i].uid,
					    who[i].admin);

		engine_serve(&f.e, &a, NULL, &c);
		cr_assert_eq(c.res, 0, "%s", c.message);
		engine_serve(&f.e, &rel, NULL, &c);
		cr_assert_eq(c.res, 0, "uid %u admin %d: %s", who[i].uid, who[i].admin, c.message);
	}
	teardown_host(&f);
}

Test(engine_rights, request_without_credentials_changes_no_one_elses_lease)
{
	struct fixture f;
	struct request a = as_uid(alloc_req("vm1", "nic0", "red"), 1001, false);
	struct request rel = as_uid(release_req("vm1", "nic0", 0), REQUEST_UID_NONE, false);
	struct vfpool_cqe c;

	setup_host(&f, 1, 8);
	engine_serve(&f.e, &a, NULL, &c);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	teardown_host(&f);
}

Test(engine_rights, restored_lease_keeps_its_owner_and_profile)
{
	struct fixture f;
	struct engine_lease l = { .slot = 3, .generation = 77, .owner_uid = 1001, .vm = "vm1",
				  .vnic = "nic0", .network = "red", .profile = "fast" };
	struct vfpool_cqe c;

	setup_host(&f, 1, 8);
	l.pci = state_vfs(f.e.hdr)[3].pci_addr;
	cr_assert_eq(engine_restore_lease(&f.e, &l), 0);
	cr_assert_eq(engine_lease_owner(&f.e, 3), 1001);
	cr_assert_eq(engine_profile_leases(&f.e, "fast"), 1u, "a profile in use stays in use");
	struct request rel = as_uid(release_req("vm1", "nic0", 0), 1002, false);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	rel.uid = 1001;
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_eq(engine_profile_leases(&f.e, "fast"), 0u);
	teardown_host(&f);
}

Test(engine_rights, lease_from_a_version_1_journal_may_be_released_by_anyone)
{
	struct fixture f;
	struct engine_lease l = { .slot = 2, .generation = 5, .owner_uid = LEASE_OWNER_UNKNOWN,
				  .vm = "vm1", .vnic = "nic0", .network = "", .profile = "" };
	struct vfpool_cqe c;

	setup_host(&f, 1, 8);
	l.pci = state_vfs(f.e.hdr)[2].pci_addr;
	cr_assert_eq(engine_restore_lease(&f.e, &l), 0);
	struct request rel = as_uid(release_req("vm1", "nic0", 0), 1002, false);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, 0, "owner unknown: as before owners were kept: %s", c.message);
	teardown_host(&f);
}

/* The journal's seat: counts the lease changes handed to it, completes at once. */
struct counting_commit {
	struct engine_commit cm;
	unsigned made, ended;
};

static void count_stage(struct engine_commit *cm, struct engine *e, const struct request *req,
			uint32_t slot, bool made, uint64_t generation)
{
	struct counting_commit *cc = (struct counting_commit *)cm;

	(void)e;
	(void)req;
	(void)slot;
	(void)generation;
	if (made)
		cc->made++;
	else
		cc->ended++;
}

static void assert_holds(struct fixture *f, const struct vfpool_cqe *c, const char *vm,
			 const char *vnic)
{
	const struct vfpool_shm_vf *vf = &state_vfs(f->e.hdr)[c->vf_slot];

	cr_assert_eq(vf->state, VFPOOL_VF_LEASED, "%s/%s lost VF %u", vm, vnic, c->vf_slot);
	cr_assert_str_eq(vf->vm_id, vm);
	cr_assert_str_eq(vf->vnic_id, vnic);
	cr_assert_eq(vf->lease_gen, c->generation);
	cr_assert(pool_is_leased(&f->e.pool.pfs[c->pf_index], c->vf_index),
		  "%s/%s: VF %u back in the pool", vm, vnic, c->vf_slot);
	cr_assert_eq(lease_index_find(f->e.leases, vm, vnic), (int64_t)c->vf_slot);
}

/* Regression (issue 12, defect 1): a chain with a release in it was refused before any of
 * its allocations ran, then "undone" from undo records it never filled: the stack still
 * held the previous chain's, so that chain's leases (another VM's, another client's) were
 * dropped without a journal record and their VFs handed to the next requester. The two
 * chains are served back to back from the same frame, as the ring does. */
Test(engine, malformed_chain_after_another_chain_changes_no_lease)
{
	struct fixture f;
	struct counting_commit cc = { .cm.stage = count_stage };
	struct request a[2] = { alloc_req("vmA", "nic0", "red"), alloc_req("vmA", "nic1", "red") };
	struct request b[3] = { alloc_req("vmB", "nic0", "red"), alloc_req("vmB", "nic1", "red"),
				release_req("vmB", "nic2", 0) };
	struct vfpool_cqe ca[2], cb[3];
	struct engine_served later_a[2], later_b[3];

	setup_host(&f, 2, 16);
	f.e.commit = &cc.cm;
	a[0].flags = b[0].flags = b[1].flags = VFPOOL_REQ_F_LINK;
	engine_serve_chain(&f.e, a, 2, NULL, ca, later_a);
	engine_serve_chain(&f.e, b, 3, NULL, cb, later_b);

	cr_assert_eq(ca[0].res, 0, "%s", ca[0].message);
	cr_assert_eq(ca[1].res, 0, "%s", ca[1].message);
	assert_holds(&f, &ca[0], "vmA", "nic0");
	assert_holds(&f, &ca[1], "vmA", "nic1");
	cr_assert_eq(lease_index_count(f.e.leases), 2u);
	cr_assert_eq(cc.made, 2u, "only vmA's two leases were journaled");
	cr_assert_eq(cc.ended, 0u, "a lease ended with nobody asking");
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(cb[i].res, -EINVAL, "entry %d: %d %s", i, cb[i].res, cb[i].message);
		cr_assert_eq(later_b[i].later, 0);
	}
	cr_assert_str_eq(cb[2].message, "vmB/nic2: only allocations may be linked");
	cr_assert_eq(lease_index_find(f.e.leases, "vmB", "nic0"), -ENOENT);
	cr_assert_eq(atomic_load(&f.e.hdr->seq) % 2, 0u, "seqlock left open");
	teardown_host(&f);
}

/* A failed chain's completions say which entry failed: the others carry VFPOOL_CQE_F_CHAIN
 * (clients need not search the message), and nothing of the chain stays leased. */
Test(engine, failed_chain_flags_every_entry_but_the_failing_one)
{
	struct fixture f;
	struct request r[3] = { alloc_req("vm1", "nic0", "red"), alloc_req("vm1", "nic1", "red"),
				alloc_req("vm1", "nic2", "red") };
	struct vfpool_cqe c[3];
	struct engine_served later[3];

	setup_host(&f, 1, 2); /* two VFs: the third alloc fails */
	r[0].flags = r[1].flags = VFPOOL_REQ_F_LINK;
	cr_assert_eq(engine_serve_chain(&f.e, r, 3, NULL, c, later), 0u);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(c[i].res, -ENOSPC, "entry %d: %s", i, c[i].message);
	cr_assert_eq(c[0].flags, VFPOOL_CQE_F_CHAIN);
	cr_assert_eq(c[1].flags, VFPOOL_CQE_F_CHAIN);
	cr_assert_eq(c[2].flags, 0u);
	cr_assert(strstr(c[2].message, "vm1/nic2: "), "%s", c[2].message);
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	cr_assert_not(pool_is_leased(&f.e.pool.pfs[0], 0));
	cr_assert_not(pool_is_leased(&f.e.pool.pfs[0], 1));
	teardown_host(&f);
}

/* The serve path keys a decoded request by the lengths and hashes its decode carried; the
 * daemon's own requests (vfpoolctl release, pid sweeps) are keyed from their strings. Both
 * name the same lease. */
Test(engine, a_decoded_request_and_a_hand_built_one_name_the_same_lease)
{
	struct fixture f;
	struct vfpool_sqe q;
	struct request dec, again = alloc_req("vm-k", "nic7", "red");
	struct request rel = release_req("vm-k", "nic7", 0);
	struct vfpool_cqe a, b, c;
	const char *why = NULL;

	setup_host(&f, 1, 8);
	memset(&q, 0, sizeof(q));
	q.opcode = VFPOOL_OP_ALLOC;
	q.numa_node = -1;
	q.user_data = 1;
	strcpy(q.vm_id, "vm-k");
	strcpy(q.vnic_id, "nic7");
	strcpy(q.network, "red");
	cr_assert_eq(request_decode(&q, &dec, &why), 0, "%s", why);
	dec.uid = 0;
	engine_serve(&f.e, &dec, NULL, &a);
	cr_assert_eq(a.res, 0, "%s", a.message);
	engine_serve(&f.e, &again, NULL, &b);
	cr_assert_eq(b.res, 0, "%s", b.message);
	cr_assert(b.flags & VFPOOL_CQE_F_EXISTING, "the hand-built request finds the lease");
	cr_assert_eq(b.vf_slot, a.vf_slot);
	engine_serve(&f.e, &rel, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	/* and the decoded release of a hand-built lease */
	engine_serve(&f.e, &again, NULL, &b);
	cr_assert_eq(b.res, 0, "%s", b.message);
	q.opcode = VFPOOL_OP_RELEASE;
	memset(q.network, 0, sizeof(q.network));
	cr_assert_eq(request_decode(&q, &dec, &why), 0, "%s", why);
	dec.uid = 0;
	engine_serve(&f.e, &dec, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	teardown_host(&f);
}

/* insert probes once: a pair already held is refused wherever its probe run puts it,
 * also behind entries of other pairs (a tiny table, so the runs collide) */
Test(engine, lease_index_refuses_a_held_pair_and_places_a_new_one_after_the_run)
{
	struct lease_index *idx = NULL;
	char vm[16];

	cr_assert_eq(lease_index_new(4, &idx), 0); /* 16 entries */
	for (int i = 0; i < 4; i++) {
		snprintf(vm, sizeof(vm), "vm%d", i);
		cr_assert_eq(lease_index_insert(idx, vm, "nic0", (uint32_t)i, 0), 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(vm, sizeof(vm), "vm%d", i);
		cr_assert_eq(lease_index_insert(idx, vm, "nic0", 9, 0), -EEXIST, "%s", vm);
		cr_assert_eq(lease_index_find(idx, vm, "nic0"), i);
	}
	cr_assert_eq(lease_index_insert(idx, "vm9", "nic0", 9, 0), -ENOSPC);
	cr_assert_eq(lease_index_remove(idx, "vm1", "nic0"), 0);
	cr_assert_eq(lease_index_insert(idx, "vm9", "nic0", 9, 0), 0);
	cr_assert_eq(lease_index_find(idx, "vm9", "nic0"), 9);
	cr_assert_eq(lease_index_find(idx, "vm1", "nic0"), -ENOENT);
	cr_assert_eq(lease_index_count(idx), 4u);
	lease_index_free(idx);
}
