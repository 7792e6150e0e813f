/* SPDX-License-Identifier: MIT */
/* Policy rules on plain structs, the store on disk, and the engine allocating under a
 * policy (state segment in malloc'd memory). Every refusal's exact message is asserted. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/policy.h"
#include "core/policy/policy_store.h"
#include "core/model/state_segment.h"
#include "shm/state.h"

static const char pcis[3][VFPOOL_PCI_ADDR_MAX] = { "0000:3b:00.0", "0000:3b:00.1", "0000:3c:00.0" };
static const char devs[3][VFPOOL_IFNAME_MAX] = { "eth2", "eth3", "eth4" };

static void three_pfs(struct policy *p)
{
	cr_assert_eq(policy_init(p, 3, pcis, devs), 0);
}

static void add_net(struct policy *p, const char *name, const char *label)
{
	struct policy_network n = { 0 };
	char why[160];

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.label, sizeof(n.label), "%s", label ? label : "");
	cr_assert_eq(policy_network_add(p, &n, why, sizeof(why)), 0, "%s", why);
}

static struct policy_profile profile(const char *name, const char *net, enum policy_passthrough pt)
{
	struct policy_profile pr = { .passthrough = pt };

	snprintf(pr.name, sizeof(pr.name), "%s", name);
	snprintf(pr.network, sizeof(pr.network), "%s", net);
	return pr;
}

/* A PF listing only what the test gives it. */
static void restrict_pf(struct policy *p, uint32_t pf)
{
	cr_assert_eq(policy_pf_all_networks(p, pf, false), 0);
}

Test(policy, passthrough_profile_with_port_mirroring_is_refused)
{
	struct policy p;
	struct policy_profile pr;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("fast", "red", POLICY_PT_MANDATORY);
	pr.port_mirroring = true;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "profile fast: a passthrough profile cannot have port mirroring");
	policy_fini(&p);
}

Test(policy, passthrough_profile_with_qos_is_refused)
{
	struct policy p;
	struct policy_profile pr;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("fast", "red", POLICY_PT_PREFERRED);
	pr.qos = true;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "profile fast: a passthrough profile cannot have QoS");
	policy_fini(&p);
}

Test(policy, profile_with_qos_cannot_be_made_passthrough)
{
	struct policy p;
	struct policy_profile pr;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("slow", "red", POLICY_PT_NONE);
	pr.qos = true;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	pr.passthrough = POLICY_PT_MANDATORY;
	cr_assert_eq(policy_profile_set(&p, &pr, 0, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "profile slow: has VM QoS, cannot be made passthrough");
	cr_assert_eq(policy_find_profile(&p, "slow")->passthrough, POLICY_PT_NONE);
	policy_fini(&p);
}

Test(policy, passthrough_mode_cannot_change_while_leases_use_the_profile)
{
	struct policy p;
	struct policy_profile pr;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("fast", "red", POLICY_PT_MANDATORY);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0);
	pr.passthrough = POLICY_PT_PREFERRED;
	cr_assert_eq(policy_profile_set(&p, &pr, 2, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "profile fast: passthrough mode cannot change while 2 leases use it");
	cr_assert_eq(policy_profile_set(&p, &pr, 0, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_find_profile(&p, "fast")->passthrough, POLICY_PT_PREFERRED);
	policy_fini(&p);
}

Test(policy, all_networks_on_clears_the_network_and_label_lists)
{
	struct policy p;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	restrict_pf(&p, 0);
	cr_assert_eq(policy_pf_network(&p, 0, "red", true, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_pf_label(&p, 0, "fast", true, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_pf_all_networks(&p, 0, true), 0);
	cr_assert_eq(p.pfs[0].n_nets, 0u);
	cr_assert_eq(p.pfs[0].n_labels, 0u);
	policy_fini(&p);
}

Test(policy, adding_a_network_to_an_all_networks_pf_is_refused)
{
	struct policy p;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	cr_assert_eq(policy_pf_network(&p, 1, "red", true, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "eth3: all networks allowed; network red cannot be added");
	policy_fini(&p);
}

Test(policy, adding_a_label_to_an_all_networks_pf_is_refused)
{
	struct policy p;
	char why[160];

	three_pfs(&p);
	cr_assert_eq(policy_pf_label(&p, 1, "fast", true, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "eth3: all networks allowed; label fast cannot be added");
	policy_fini(&p);
}

Test(policy, network_is_allowed_by_list_label_or_all_networks)
{
	struct policy p;
	char why[160];
	const struct pf_set *s;

	three_pfs(&p);
	add_net(&p, "red", "fastlan");
	restrict_pf(&p, 0);
	restrict_pf(&p, 1);
	cr_assert_eq(policy_pf_label(&p, 1, "fastlan", true, why, sizeof(why)), 0, "%s", why);
	s = policy_allowed(&p, "red");
	cr_assert_not(pf_set_has(s, 0), "eth2 lists nothing");
	cr_assert(pf_set_has(s, 1), "eth3 lists red's label");
	cr_assert(pf_set_has(s, 2), "eth4 allows all networks");
	cr_assert_eq(policy_pf_network(&p, 0, "red", true, why, sizeof(why)), 0, "%s", why);
	cr_assert(pf_set_has(policy_allowed(&p, "red"), 0), "eth2 lists red");
	policy_fini(&p);
}

Test(policy, same_network_and_label_may_be_on_several_pfs)
{
	struct policy p;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", "lbl");
	for (uint32_t i = 0; i < 3; i++) {
		restrict_pf(&p, i);
		cr_assert_eq(policy_pf_network(&p, i, "red", true, why, sizeof(why)), 0, "%s", why);
		cr_assert_eq(policy_pf_label(&p, i, "lbl", true, why, sizeof(why)), 0, "%s", why);
	}
	for (uint32_t i = 0; i < 3; i++)
		cr_assert(pf_set_has(policy_allowed(&p, "red"), i));
	policy_fini(&p);
}

Test(policy, bond_slave_pf_is_configured_like_any_pf)
{
	/* the policy has no notion of bonds: a bond slave is a PF index like another */
	static const char bpci[1][VFPOOL_PCI_ADDR_MAX] = { "0000:5e:00.0" };
	static const char bdev[1][VFPOOL_IFNAME_MAX] = { "bond0slave" };
	struct policy p;
	char why[160];

	cr_assert_eq(policy_init(&p, 1, bpci, bdev), 0);
	add_net(&p, "red", NULL);
	restrict_pf(&p, 0);
	cr_assert_not(pf_set_has(policy_allowed(&p, "red"), 0));
	cr_assert_eq(policy_pf_network(&p, 0, "red", true, why, sizeof(why)), 0, "%s", why);
	cr_assert(pf_set_has(policy_allowed(&p, "red"), 0));
	policy_fini(&p);
}

Test(policy, profile_on_an_undefined_network_is_refused)
{
	struct policy p;
	struct policy_profile pr = profile("fast", "blue", POLICY_PT_MANDATORY);
	char why[160];

	three_pfs(&p);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -ENOENT);
	cr_assert_str_eq(why, "profile fast: network blue not defined");
	policy_fini(&p);
}

Test(policy, network_used_by_a_profile_cannot_be_deleted)
{
	struct policy p;
	struct policy_profile pr;
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("fast", "red", POLICY_PT_MANDATORY);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0);
	cr_assert_eq(policy_network_del(&p, "red", why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "network red: used by profile fast");
	policy_fini(&p);
}

/* ---- the store ------------------------------------------------------------------------ */

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/vfpool-policy.XXXXXX");
	cr_assert(mkdtemp(dir));
	return dir;
}

static void rmdir_all(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(policy_store, saved_policy_loads_back_the_same)
{
	struct policy p, q;
	struct policy_profile pr;
	char why[200];
	char *dir = tmpdir();

	three_pfs(&p);
	add_net(&p, "red", "lbl");
	pr = profile("fast", "red", POLICY_PT_PREFERRED);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0);
	restrict_pf(&p, 1);
	cr_assert_eq(policy_pf_network(&p, 1, "red", true, why, sizeof(why)), 0);
	cr_assert_eq(policy_pf_label(&p, 1, "lbl", true, why, sizeof(why)), 0);
	cr_assert_eq(policy_store_save(dir, &p, why, sizeof(why)), 0, "%s", why);
	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(q.n_nets, 1u);
	cr_assert_str_eq(q.nets[0].label, "lbl");
	cr_assert_eq(policy_find_profile(&q, "fast")->passthrough, POLICY_PT_PREFERRED);
	cr_assert_not(q.pfs[1].all_networks);
	cr_assert_str_eq(q.pfs[1].nets[0], "red");
	cr_assert_str_eq(q.pfs[1].labels[0], "lbl");
	cr_assert(q.pfs[0].all_networks);
	policy_fini(&p);
	policy_fini(&q);
	rmdir_all(dir);
}

Test(policy_store, a_profile_binding_vfio_pci_loads_back_and_others_read_as_before)
{
	struct policy p, q;
	struct policy_profile pr;
	char why[200];
	char *dir = tmpdir();

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr = profile("vm-direct", "red", POLICY_PT_MANDATORY);
	pr.vfio = true;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	pr = profile("plain", "red", POLICY_PT_MANDATORY);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_store_save(dir, &p, why, sizeof(why)), 0, "%s", why);
	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert(policy_find_profile(&q, "vm-direct")->vfio);
	cr_assert_not(policy_find_profile(&q, "plain")->vfio);
	policy_fini(&p);
	policy_fini(&q);
	rmdir_all(dir);
}

Test(policy_store, corrupt_file_is_refused_naming_file_and_line_and_leaves_policy_unchanged)
{
	struct policy q;
	char why[200], path[128];
	char *dir = tmpdir();
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("vfpool-policy 1\nnetwork red 0 0 -\nprofile fast red mandatory 1 0\n", f);
	fclose(f);
	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), -EBADMSG);
	char expect[200];
	snprintf(expect, sizeof(expect),
		 "%s: line 3: profile fast: a passthrough profile cannot have port mirroring", path);
	cr_assert_str_eq(why, expect);
	cr_assert_eq(q.n_nets, 0u, "nothing of a corrupt file is used");
	policy_fini(&q);
	rmdir_all(dir);
}

Test(policy_store, missing_file_is_enoent)
{
	struct policy q;
	char why[200];
	char *dir = tmpdir();

	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), -ENOENT);
	policy_fini(&q);
	rmdir_all(dir);
}

/* ---- the engine under a policy -------------------------------------------------------- */

struct fx {
	struct host *host;
	void *mem;
	struct engine e;
	struct policy p;
};

static void fx_setup(struct fx *f, unsigned pfs, unsigned vfs)
{
	size_t size;
	char (*pci)[VFPOOL_PCI_ADDR_MAX];
	char (*dev)[VFPOOL_IFNAME_MAX];

	cr_assert_eq(host_simulate(pfs, vfs, &f->host), 0);
	cr_assert_eq(state_seg_size(f->host, &size), 0);
	f->mem = aligned_alloc(64, size);
	cr_assert(f->mem);
	cr_assert_eq(state_seg_format(f->mem, size, f->host), 0);
	cr_assert_eq(engine_init(&f->e, f->mem), 0);
	pci = calloc(pfs, sizeof(*pci));
	dev = calloc(pfs, sizeof(*dev));
	for (unsigned i = 0; i < pfs; i++) {
		memcpy(pci[i], f->host->pfs[i].pci_addr, sizeof(pci[i]));
		memcpy(dev[i], f->host->pfs[i].netdev, sizeof(dev[i]));
	}
	cr_assert_eq(policy_init(&f->p, pfs, (const char (*)[VFPOOL_PCI_ADDR_MAX])pci,
				 (const char (*)[VFPOOL_IFNAME_MAX])dev), 0);
	free(pci);
	free(dev);
	f->e.policy = &f->p;
}

static void fx_teardown(struct fx *f)
{
	policy_fini(&f->p);
	engine_fini(&f->e);
	free(f->mem);
	host_free(f->host);
}

static struct request areq(const char *vm, const char *vnic, const char *net, const char *prof)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.op = VFPOOL_OP_ALLOC;
	r.numa_node = -1;
	snprintf(r.vm_id, sizeof(r.vm_id), "%s", vm);
	snprintf(r.vnic_id, sizeof(r.vnic_id), "%s", vnic);
	snprintf(r.network, sizeof(r.network), "%s", net ? net : "");
	if (prof) {
		r.flags |= VFPOOL_REQ_F_PROFILE;
		snprintf(r.profile, sizeof(r.profile), "%s", prof);
	}
	return r;
}

/* 3 PFs of 8 VFs (ens1f0, ens1f1, ens2f0); red allowed on ens1f1 only, which is full. */
static void full_and_refused(struct fx *f)
{
	struct vfpool_cqe c;
	char vnic[16];

	fx_setup(f, 3, 8);
	add_net(&f->p, "red", NULL);
	restrict_pf(&f->p, 0);
	restrict_pf(&f->p, 1);
	restrict_pf(&f->p, 2);
	cr_assert_eq(policy_pf_network(&f->p, 1, "red", true, NULL, 0), 0);
	for (int i = 0; i < 7; i++) { /* VF 7 would be 8th; index 15 rule: none blocked at 8 */
		snprintf(vnic, sizeof(vnic), "n%d", i);
		struct request r = areq("filler", vnic, "red", NULL);
		engine_serve(&f->e, &r, NULL, &c);
		cr_assert_eq(c.res, 0, "%s", c.message);
	}
	struct request r = areq("filler", "n7", "red", NULL);
	engine_serve(&f->e, &r, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
}

Test(policy_engine, no_eligible_vf_names_each_pf_and_why)
{
	struct fx f;
	struct vfpool_cqe c;

	full_and_refused(&f);
	struct request r = areq("vm1", "nic0", "red", NULL);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -ENOSPC);
	cr_assert_str_eq(c.message, "ens1f0: network red not allowed; ens1f1: 0 free of 8 VFs; "
				    "ens2f0: network red not allowed");
	fx_teardown(&f);
}

Test(policy_engine, iommu_shared_pf_is_named_with_that_reason)
{
	struct fx f;
	struct vfpool_cqe c;

	fx_setup(&f, 1, 8);
	add_net(&f.p, "red", NULL);
	for (uint32_t s = 0; s < 8; s++)
		pool_set_blocked(&f.e.pool.pfs[0], s, VFPOOL_BLOCK_IOMMU_SHARED, true);
	struct request r = areq("vm1", "nic0", "red", NULL);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -ENOSPC);
	cr_assert_str_eq(c.message, "ens1f0: IOMMU group shared");
	fx_teardown(&f);
}

Test(policy_engine, preferred_profile_without_eligible_vf_answers_use_the_bridge)
{
	struct fx f;
	struct vfpool_cqe c;
	struct policy_profile pr = profile("nice", "red", POLICY_PT_PREFERRED);

	full_and_refused(&f);
	cr_assert_eq(policy_profile_add(&f.p, &pr, NULL, 0), 0);
	struct request r = areq("vm1", "nic0", NULL, "nice");
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, VFPOOL_CQE_USE_BRIDGE, "%d %s", c.res, c.message);
	fx_teardown(&f);
}

Test(policy_engine, mandatory_profile_without_eligible_vf_fails)
{
	struct fx f;
	struct vfpool_cqe c;
	struct policy_profile pr = profile("must", "red", POLICY_PT_MANDATORY);

	full_and_refused(&f);
	cr_assert_eq(policy_profile_add(&f.p, &pr, NULL, 0), 0);
	struct request r = areq("vm1", "nic0", NULL, "must");
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -ENOSPC);
	fx_teardown(&f);
}

Test(policy_engine, allocation_lands_only_on_pfs_allowing_the_network)
{
	struct fx f;
	struct vfpool_cqe c;
	char vnic[16];

	fx_setup(&f, 3, 8);
	add_net(&f.p, "red", NULL);
	restrict_pf(&f.p, 0);
	restrict_pf(&f.p, 2);
	for (int i = 0; i < 8; i++) {
		snprintf(vnic, sizeof(vnic), "n%d", i);
		struct request r = areq("vm", vnic, "red", NULL);
		engine_serve(&f.e, &r, NULL, &c);
		cr_assert_eq(c.res, 0, "%s", c.message);
		cr_assert_eq(c.pf_index, 1u, "vNIC %s landed on PF %u", vnic, c.pf_index);
	}
	fx_teardown(&f);
}

Test(policy_engine, pinned_vf_on_a_pf_not_allowing_the_network_is_refused)
{
	struct fx f;
	struct vfpool_cqe c;
	char expect[160];

	fx_setup(&f, 2, 8);
	add_net(&f.p, "red", NULL);
	restrict_pf(&f.p, 0);
	struct request r = areq("vm", "n0", "red", NULL);
	r.flags |= VFPOOL_REQ_F_PIN;
	memcpy(r.pin_pci, state_vfs(f.e.hdr)[0].pci_addr, sizeof(r.pin_pci));
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, -EPERM);
	snprintf(expect, sizeof(expect), "%s: ens1f0: network red not allowed", r.pin_pci);
	cr_assert_str_eq(c.message, expect);
	fx_teardown(&f);
}

Test(policy_engine, failed_chain_leaves_the_pool_exactly_as_before)
{
	struct fx f;
	struct request reqs[3];
	struct vfpool_cqe c[3];
	struct engine_served kept[3];
	size_t vf_bytes;
	void *before;

	fx_setup(&f, 2, 4);
	add_net(&f.p, "red", NULL);
	add_net(&f.p, "blue", NULL);
	restrict_pf(&f.p, 1); /* blue: only ens1f0, 4 VFs */
	vf_bytes = f.e.hdr->n_vfs * sizeof(struct vfpool_shm_vf);
	before = malloc(vf_bytes);
	memcpy(before, state_vfs(f.e.hdr), vf_bytes);
	uint64_t bm_before[64];
	memcpy(bm_before, state_bitmap(f.e.hdr), f.e.hdr->bitmap_words * 8);
	reqs[0] = areq("vm", "a", "red", NULL);
	reqs[1] = areq("vm", "b", "red", NULL);
	reqs[2] = areq("vm", "c", "nosuch", NULL);
	reqs[0].flags |= VFPOOL_REQ_F_LINK;
	reqs[1].flags |= VFPOOL_REQ_F_LINK;
	engine_serve_chain(&f.e, reqs, 3, NULL, c, kept);
	cr_assert_eq(c[2].res, -ENOENT);
	cr_assert_str_eq(c[2].message, "vm/c: network nosuch not defined");
	cr_assert_eq(c[0].res, -ENOENT);
	cr_assert_str_eq(c[0].message, "vm/a: not allocated: vm/c failed: vm/c: network nosuch not defined");
	cr_assert_eq(memcmp(before, state_vfs(f.e.hdr), vf_bytes), 0, "VF records changed");
	cr_assert_eq(memcmp(bm_before, state_bitmap(f.e.hdr), f.e.hdr->bitmap_words * 8), 0,
		     "bitmaps changed");
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	free(before);
	fx_teardown(&f);
}

Test(policy_engine, chain_that_fits_leases_every_vnic)
{
	struct fx f;
	struct request reqs[3];
	struct vfpool_cqe c[3];
	struct engine_served kept[3];

	fx_setup(&f, 2, 4);
	add_net(&f.p, "red", NULL);
	for (int i = 0; i < 3; i++) {
		char v[4] = { 'n', (char)('0' + i), 0 };
		reqs[i] = areq("vm", v, "red", NULL);
		if (i < 2)
			reqs[i].flags |= VFPOOL_REQ_F_LINK;
	}
	engine_serve_chain(&f.e, reqs, 3, NULL, c, kept);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(c[i].res, 0, "%s", c[i].message);
	cr_assert_eq(lease_index_count(f.e.leases), 3u);
	fx_teardown(&f);
}

Test(policy_engine, leases_by_profile_are_counted)
{
	struct fx f;
	struct vfpool_cqe c;
	struct policy_profile pr = profile("fast", "red", POLICY_PT_MANDATORY);

	fx_setup(&f, 1, 4);
	add_net(&f.p, "red", NULL);
	cr_assert_eq(policy_profile_add(&f.p, &pr, NULL, 0), 0);
	struct request r = areq("vm", "n0", NULL, "fast");
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, 0, "%s", c.message);
	cr_assert_eq(engine_profile_leases(&f.e, "fast"), 1u);
	fx_teardown(&f);
}

/* ---- a VM's vNICs placed together (core/model/placement.h) ---------------------------- */

/* Serves reqs[0..n) as one VM request (each linked to the next). */
static void serve_vm(struct fx *f, struct request *reqs, unsigned n, struct vfpool_cqe *c)
{
	struct engine_served kept[VFPOOL_CHAIN_MAX];

	for (unsigned i = 0; i + 1 < n; i++)
		reqs[i].flags |= VFPOOL_REQ_F_LINK;
	engine_serve_chain(&f->e, reqs, n, NULL, c, kept);
}

static void pin(struct request *r, const struct fx *f, uint32_t slot)
{
	r->flags |= VFPOOL_REQ_F_PIN;
	memcpy(r->pin_pci, state_vfs(f->e.hdr)[slot].pci_addr, sizeof(r->pin_pci));
}

/* Regression (issue 14): the network vNIC, listed first, took the VF the pinned hostdev
 * listed after it names, and the VM was refused although a placement exists. */
Test(vm_placement, pinned_vnic_listed_after_a_network_vnic_gets_its_vf)
{
	struct fx f;
	struct request reqs[2] = { areq("vm", "net0", "red", NULL), areq("vm", "hostdev0", "red",
									     NULL) };
	struct vfpool_cqe c[2];

	fx_setup(&f, 1, 2);
	add_net(&f.p, "red", NULL);
	pin(&reqs[1], &f, 0); /* the VF a first-fit search would hand out first */
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[0].res, 0, "%s", c[0].message);
	cr_assert_eq(c[1].res, 0, "%s", c[1].message);
	cr_assert_eq(c[1].vf_slot, 0u, "the pinned vNIC has its VF");
	cr_assert_eq(c[0].vf_slot, 1u, "the other vNIC has the other VF");
	cr_assert_eq(lease_index_count(f.e.leases), 2u);
	fx_teardown(&f);
}

/* Regression (issue 14): the same VM fits or not depending on its vNICs' order. red may use
 * either PF, blue only ens1f1; one VF each. Whichever PF red's search started at (the
 * rotor), blue must still get ens1f1. */
Test(vm_placement, vnic_order_does_not_decide_whether_a_vm_fits)
{
	for (unsigned rotor = 0; rotor < 2; rotor++) {
		for (unsigned blue_first = 0; blue_first < 2; blue_first++) {
			struct fx f;
			struct request reqs[2];
			struct vfpool_cqe c[2];
			unsigned b = blue_first ? 0 : 1;

			fx_setup(&f, 2, 1);
			add_net(&f.p, "red", NULL);
			add_net(&f.p, "blue", NULL);
			restrict_pf(&f.p, 0);
			cr_assert_eq(policy_pf_network(&f.p, 0, "red", true, NULL, 0), 0);
			reqs[b] = areq("vm", "b", "blue", NULL);
			reqs[1 - b] = areq("vm", "r", "red", NULL);
			atomic_store(&f.e.pool.rotor, rotor);
			serve_vm(&f, reqs, 2, c);
			cr_assert_eq(c[0].res, 0, "rotor %u, blue first %u: %s", rotor, blue_first,
				     c[0].message);
			cr_assert_eq(c[1].res, 0, "rotor %u, blue first %u: %s", rotor, blue_first,
				     c[1].message);
			cr_assert_eq(c[b].pf_index, 1u);
			cr_assert_eq(c[1 - b].pf_index, 0u);
			fx_teardown(&f);
		}
	}
}

/* Regression (issue 14): a "preferred" vNIC listed first took the only VF, and the
 * mandatory one after it failed the VM; it should have been told to use the bridge. */
Test(vm_placement, preferred_vnic_never_takes_the_vf_a_mandatory_one_needs)
{
	struct fx f;
	struct policy_profile nice = profile("nice", "red", POLICY_PT_PREFERRED);
	struct policy_profile must = profile("must", "red", POLICY_PT_MANDATORY);
	struct request reqs[2] = { areq("vm", "n0", NULL, "nice"), areq("vm", "n1", NULL, "must") };
	struct vfpool_cqe c[2];

	fx_setup(&f, 1, 1);
	add_net(&f.p, "red", NULL);
	cr_assert_eq(policy_profile_add(&f.p, &nice, NULL, 0), 0);
	cr_assert_eq(policy_profile_add(&f.p, &must, NULL, 0), 0);
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[0].res, VFPOOL_CQE_USE_BRIDGE, "%d %s", c[0].res, c[0].message);
	cr_assert_eq(c[1].res, 0, "%s", c[1].message);
	cr_assert_eq(lease_index_count(f.e.leases), 1u);
	fx_teardown(&f);
}

/* Regression (issue 14): a bridge vNIC (profile not passthrough) refused the whole VM. */
Test(vm_placement, bridge_vnic_in_a_vm_request_gets_use_the_bridge)
{
	struct fx f;
	struct policy_profile br = profile("br", "red", POLICY_PT_NONE);
	struct request reqs[3] = { areq("vm", "n0", "red", NULL), areq("vm", "n1", NULL, "br"),
				   areq("vm", "n2", "red", NULL) };
	struct vfpool_cqe c[3];

	fx_setup(&f, 1, 4);
	add_net(&f.p, "red", NULL);
	cr_assert_eq(policy_profile_add(&f.p, &br, NULL, 0), 0);
	serve_vm(&f, reqs, 3, c);
	cr_assert_eq(c[0].res, 0, "%s", c[0].message);
	cr_assert_eq(c[1].res, VFPOOL_CQE_USE_BRIDGE, "%d %s", c[1].res, c[1].message);
	cr_assert_str_eq(c[1].message, "vm/n1: profile br is not passthrough: the bridge");
	cr_assert_eq(c[2].res, 0, "%s", c[2].message);
	cr_assert_eq(lease_index_count(f.e.leases), 2u);
	cr_assert_eq(engine_profile_leases(&f.e, "br"), 0u, "a bridge vNIC holds no lease");
	fx_teardown(&f);
}

Test(vm_placement, bridge_vnic_alone_gets_use_the_bridge)
{
	struct fx f;
	struct policy_profile br = profile("br", "red", POLICY_PT_NONE);
	struct request r = areq("vm", "n0", NULL, "br");
	struct vfpool_cqe c;

	fx_setup(&f, 1, 4);
	add_net(&f.p, "red", NULL);
	cr_assert_eq(policy_profile_add(&f.p, &br, NULL, 0), 0);
	engine_serve(&f.e, &r, NULL, &c);
	cr_assert_eq(c.res, VFPOOL_CQE_USE_BRIDGE, "%d %s", c.res, c.message);
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	fx_teardown(&f);
}

Test(vm_placement, vnic_listed_twice_in_one_request_is_refused)
{
	struct fx f;
	struct request reqs[2] = { areq("vm", "n0", "red", NULL), areq("vm", "n0", "red", NULL) };
	struct vfpool_cqe c[2];

	fx_setup(&f, 1, 4);
	add_net(&f.p, "red", NULL);
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[1].res, -EINVAL);
	cr_assert_str_eq(c[1].message, "vm/n0: listed twice in one request");
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	fx_teardown(&f);
}

Test(vm_placement, vm_that_does_not_fit_names_a_vnic_and_leases_nothing)
{
	struct fx f;
	struct request reqs[3] = { areq("vm", "n0", "red", NULL), areq("vm", "n1", "red", NULL),
				   areq("vm", "n2", "red", NULL) };
	struct vfpool_cqe c[3];

	fx_setup(&f, 2, 1);
	add_net(&f.p, "red", NULL);
	serve_vm(&f, reqs, 3, c);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(c[i].res, -ENOSPC, "%d: %s", i, c[i].message);
	cr_assert_eq(c[2].flags & VFPOOL_CQE_F_CHAIN, 0u, "the last vNIC is the one short");
	cr_assert_str_eq(c[2].message, "vm/n2: ens1f0: 0 free of 1 VFs; ens1f1: 0 free of 1 VFs");
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	cr_assert_eq(pool_is_leased(&f.e.pool.pfs[0], 0), false);
	cr_assert_eq(pool_is_leased(&f.e.pool.pfs[1], 0), false);
	fx_teardown(&f);
}

Test(vm_placement, per_vm_limit_counts_the_vnics_of_the_same_request)
{
	struct fx f;
	struct request reqs[3] = { areq("vm", "n0", "red", NULL), areq("vm", "n1", "red", NULL),
				   areq("vm", "n2", "red", NULL) };
	struct vfpool_cqe c[3];

	fx_setup(&f, 1, 8);
	add_net(&f.p, "red", NULL);
	f.e.max_leases_per_vm = 2;
	serve_vm(&f, reqs, 3, c);
	cr_assert_eq(c[2].res, -EDQUOT, "%s", c[2].message);
	cr_assert_eq(lease_index_count(f.e.leases), 0u);
	/* other VMs' vNICs in the same chain (the k8s plugin's) count for their own VMs */
	struct request other[3] = { areq("vmA", "n0", "red", NULL), areq("vmB", "n0", "red", NULL),
				    areq("vmA", "n1", "red", NULL) };
	serve_vm(&f, other, 3, c);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(c[i].res, 0, "%d: %s", i, c[i].message);
	fx_teardown(&f);
}

/* ---- placement policy: spread or pack, NUMA preferred or required --------------------- */

static unsigned on_pf(const struct fx *f, uint32_t pf)
{
	struct pf_block_counts c;

	pool_pf_count(&f->e.pool.pfs[pf], &c);
	return c.leased;
}

Test(vm_placement, pack_fills_one_pf_before_the_next)
{
	struct fx f;
	struct vfpool_cqe c;
	char vnic[8];

	fx_setup(&f, 2, 4);
	add_net(&f.p, "red", NULL);
	f.e.placement = PLACEMENT_PACK;
	for (int i = 0; i < 5; i++) {
		snprintf(vnic, sizeof(vnic), "n%d", i);
		struct request r = areq("vm", vnic, "red", NULL);
		engine_serve(&f.e, &r, NULL, &c);
		cr_assert_eq(c.res, 0, "%s", c.message);
	}
	cr_assert(on_pf(&f, 0) == 4 || on_pf(&f, 1) == 4, "one PF full: %u %u", on_pf(&f, 0),
		  on_pf(&f, 1));
	fx_teardown(&f);
}

Test(vm_placement, spread_puts_a_vms_vnics_on_different_pfs)
{
	struct fx f;
	struct request reqs[2] = { areq("vm", "n0", "red", NULL), areq("vm", "n1", "red", NULL) };
	struct vfpool_cqe c[2];

	fx_setup(&f, 2, 4);
	add_net(&f.p, "red", NULL);
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[0].res, 0, "%s", c[0].message);
	cr_assert_eq(c[1].res, 0, "%s", c[1].message);
	cr_assert_neq(c[0].pf_index, c[1].pf_index);
	fx_teardown(&f);
}

Test(vm_placement, profile_placement_overrides_the_daemons)
{
	struct fx f;
	struct policy_profile pk = profile("packed", "red", POLICY_PT_MANDATORY);
	struct request reqs[3] = { areq("vm", "n0", NULL, "packed"), areq("vm", "n1", NULL, "packed"),
				   areq("vm", "n2", NULL, "packed") };
	struct vfpool_cqe c[3];

	fx_setup(&f, 3, 4);
	add_net(&f.p, "red", NULL);
	pk.placement = POLICY_PLACE_PACK;
	cr_assert_eq(policy_profile_add(&f.p, &pk, NULL, 0), 0);
	cr_assert_eq(f.e.placement, PLACEMENT_SPREAD);
	serve_vm(&f, reqs, 3, c);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(c[i].res, 0, "%s", c[i].message);
	cr_assert_eq(c[0].pf_index, c[1].pf_index, "packed: one PF");
	cr_assert_eq(c[1].pf_index, c[2].pf_index, "packed: one PF");
	fx_teardown(&f);
}

/* The simulated host: PFs 0 and 1 on node 0, 2 and 3 on node 1; one VF each. */
Test(vm_placement, numa_required_is_that_node_or_none)
{
	struct fx f;
	struct vfpool_cqe c;

	fx_setup(&f, 4, 1);
	add_net(&f.p, "red", NULL);
	for (int i = 0; i < 3; i++) {
		char vnic[8];

		snprintf(vnic, sizeof(vnic), "n%d", i);
		struct request r = areq("vm", vnic, "red", NULL);
		r.numa_node = 1;
		r.flags |= VFPOOL_REQ_F_NUMA_REQUIRED;
		engine_serve(&f.e, &r, NULL, &c);
		if (i < 2) {
			cr_assert_eq(c.res, 0, "%s", c.message);
			cr_assert_eq(c.numa_node, 1);
			cr_assert_eq(c.flags & VFPOOL_CQE_F_NUMA_MISS, 0u);
		}
	}
	cr_assert_eq(c.res, -ENOSPC, "%d %s", c.res, c.message);
	cr_assert_str_eq(c.message, "none on NUMA node 1 (required): ens1f0: 1 free of 1 VFs; "
				    "ens1f1: 1 free of 1 VFs; ens2f0: 0 free of 1 VFs; "
				    "ens2f1: 0 free of 1 VFs");
	struct request pref = areq("vm", "n9", "red", NULL);
	pref.numa_node = 1;
	engine_serve(&f.e, &pref, NULL, &c);
	cr_assert_eq(c.res, 0, "preferred: elsewhere: %s", c.message);
	cr_assert(c.flags & VFPOOL_CQE_F_NUMA_MISS);
	fx_teardown(&f);
}

Test(vm_placement, numa_required_by_a_preferred_profile_is_the_bridge_off_node)
{
	struct fx f;
	struct policy_profile near = profile("near", "red", POLICY_PT_PREFERRED);
	struct request reqs[2] = { areq("vm", "n0", NULL, "near"), areq("vm", "n1", "red", NULL) };
	struct vfpool_cqe c[2];

	fx_setup(&f, 4, 1);
	add_net(&f.p, "red", NULL);
	near.numa = POLICY_NUMA_REQUIRED;
	cr_assert_eq(policy_profile_add(&f.p, &near, NULL, 0), 0);
	pool_set_blocked(&f.e.pool.pfs[2], 0, VFPOOL_BLOCK_HOST_BUSY, true);
	pool_set_blocked(&f.e.pool.pfs[3], 0, VFPOOL_BLOCK_HOST_BUSY, true);
	reqs[0].numa_node = reqs[1].numa_node = 1;
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[0].res, VFPOOL_CQE_USE_BRIDGE, "%d %s", c[0].res, c[0].message);
	cr_assert_eq(c[1].res, 0, "not required: elsewhere: %s", c[1].message);
	cr_assert(c[1].flags & VFPOOL_CQE_F_NUMA_MISS);
	fx_teardown(&f);
}

Test(policy_store, profile_placement_and_numa_load_back)
{
	struct policy p, q;
	struct policy_profile pr = profile("near", "red", POLICY_PT_MANDATORY);
	char dir[] = "/tmp/vfpool-policy-place-XXXXXX", why[160];

	cr_assert(mkdtemp(dir));
	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr.placement = POLICY_PLACE_PACK;
	pr.numa = POLICY_NUMA_REQUIRED;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	pr = profile("plain", "red", POLICY_PT_PREFERRED);
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_store_save(dir, &p, why, sizeof(why)), 0, "%s", why);
	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_find_profile(&q, "near")->placement, POLICY_PLACE_PACK);
	cr_assert_eq(policy_find_profile(&q, "near")->numa, POLICY_NUMA_REQUIRED);
	cr_assert_eq(policy_find_profile(&q, "plain")->placement, POLICY_PLACE_DAEMON);
	cr_assert_eq(policy_find_profile(&q, "plain")->numa, POLICY_NUMA_PREFERRED);
	policy_fini(&p);
	policy_fini(&q);
	rmdir_all(dir);
}

/* ---- a profile's VF settings ----------------------------------------------------------- */

Test(policy, passthrough_profile_with_port_mirroring_and_qos_names_both)
{
	struct policy p;
	struct policy_profile pr = profile("fast", "red", POLICY_PT_MANDATORY);
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr.port_mirroring = pr.qos = true;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "profile fast: a passthrough profile cannot have port mirroring nor QoS");
	policy_fini(&p);
}

Test(policy, passthrough_profile_takes_vf_settings_and_tx_rates)
{
	struct policy p;
	struct policy_profile pr = profile("fast", "red", POLICY_PT_PREFERRED);
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr.trust = POLICY_SWITCH_ON;
	pr.spoofchk = POLICY_SWITCH_OFF;
	pr.link_state = POLICY_LINK_DISABLE;
	pr.max_tx_rate = 1000;
	pr.min_tx_rate = 1000;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	policy_fini(&p);
}

Test(policy, bridge_profile_refuses_vf_settings_naming_the_one)
{
	static const struct {
		struct policy_profile settings;
		const char *why;
	} table[] = {
		{ { .trust = POLICY_SWITCH_ON }, "trust on" },
		{ { .trust = POLICY_SWITCH_OFF }, "trust off" },
		{ { .spoofchk = POLICY_SWITCH_OFF }, "spoofchk off" },
		{ { .link_state = POLICY_LINK_ENABLE }, "link-state enable" },
		{ { .max_tx_rate = 100 }, "max-tx-rate 100" },
		{ { .min_tx_rate = 10 }, "min-tx-rate 10" },
	};
	struct policy p;
	char why[160], want[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct policy_profile pr = table[i].settings;

		snprintf(pr.name, sizeof(pr.name), "br");
		snprintf(pr.network, sizeof(pr.network), "red");
		pr.passthrough = POLICY_PT_NONE;
		cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -EINVAL, "%s",
			     table[i].why);
		snprintf(want, sizeof(want), "profile br: not passthrough, no VF to carry %s",
			 table[i].why);
		cr_assert_str_eq(why, want);
	}
	policy_fini(&p);
}

Test(policy, min_tx_rate_above_max_is_refused)
{
	struct policy p;
	struct policy_profile pr = profile("fast", "red", POLICY_PT_MANDATORY);
	char why[160];

	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr.max_tx_rate = 1000;
	pr.min_tx_rate = 2000;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), -ERANGE);
	cr_assert_str_eq(why, "profile fast: min TX rate 2000 above max TX rate 1000 Mbit/s");
	pr.max_tx_rate = 0; /* no limit: any guarantee */
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	policy_fini(&p);
}

Test(policy_store, profile_vf_settings_load_back)
{
	struct policy p, q;
	struct policy_profile pr = profile("fast", "red", POLICY_PT_MANDATORY);
	const struct policy_profile *got;
	char dir[] = "/tmp/vfpool-policy-vfset-XXXXXX", why[160];

	cr_assert(mkdtemp(dir));
	three_pfs(&p);
	add_net(&p, "red", NULL);
	pr.trust = POLICY_SWITCH_ON;
	pr.spoofchk = POLICY_SWITCH_OFF;
	pr.link_state = POLICY_LINK_ENABLE;
	pr.max_tx_rate = 40000;
	pr.min_tx_rate = 5000;
	cr_assert_eq(policy_profile_add(&p, &pr, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(policy_store_save(dir, &p, why, sizeof(why)), 0, "%s", why);
	three_pfs(&q);
	cr_assert_eq(policy_store_load(dir, &q, NULL, why, sizeof(why)), 0, "%s", why);
	got = policy_find_profile(&q, "fast");
	cr_assert_not_null(got);
	cr_assert_eq(got->trust, POLICY_SWITCH_ON);
	cr_assert_eq(got->spoofchk, POLICY_SWITCH_OFF);
	cr_assert_eq(got->link_state, POLICY_LINK_ENABLE);
	cr_assert_eq(got->max_tx_rate, 40000u);
	cr_assert_eq(got->min_tx_rate, 5000u);
	cr_assert_eq(got->passthrough, POLICY_PT_MANDATORY);
	policy_fini(&p);
	policy_fini(&q);
	rmdir_all(dir);
}

/* Spread counts the PFs a VM holds VFs on already: a VM with two VFs on ens1f0 gets its
 * next two vNICs on ens1f1, not one on each. */
Test(vm_placement, spread_places_new_vnics_off_the_pfs_the_vm_already_uses)
{
	struct fx f;
	struct request held[2] = { areq("vm", "h0", "red", NULL), areq("vm", "h1", "red", NULL) };
	struct request reqs[2] = { areq("vm", "n0", "red", NULL), areq("vm", "n1", "red", NULL) };
	struct vfpool_cqe c[2];

	fx_setup(&f, 2, 4);
	add_net(&f.p, "red", NULL);
	pin(&held[0], &f, 0);
	pin(&held[1], &f, 1); /* both on ens1f0 */
	serve_vm(&f, held, 2, c);
	cr_assert_eq(c[0].res, 0, "%s", c[0].message);
	cr_assert_eq(c[1].res, 0, "%s", c[1].message);
	serve_vm(&f, reqs, 2, c);
	cr_assert_eq(c[0].res, 0, "%s", c[0].message);
	cr_assert_eq(c[1].res, 0, "%s", c[1].message);
	cr_assert_eq(c[0].pf_index, 1u);
	cr_assert_eq(c[1].pf_index, 1u);
	fx_teardown(&f);
}
