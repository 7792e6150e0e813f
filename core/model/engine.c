/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/placement.h"
#include "core/model/req_stats.h"
#include "core/model/vm_quota.h"
#include "core/model/state_segment.h"
#include "shm/seqlock.h"
#include "shm/state.h"

/* The request's (VM, vNIC) key: as decoded (lengths and hashes carried from the decode:
 * no scan), or computed for a request the daemon built itself. */
static struct lease_key req_key(const struct request *r)
{
	if (!r->keyed)
		return lease_key_of(r->vm_id, r->vnic_id);
	return (struct lease_key){ .vm = r->vm_id, .vnic = r->vnic_id, .vm_len = r->vm_id_len,
				   .vnic_len = r->vnic_id_len, .vm_hash = r->vm_hash,
				   .hash = r->key_hash };
}

static const struct engine *sort_ctx; /* qsort has no context argument; init-time only */

static int cmp_pci(const void *a, const void *b)
{
	const struct vfpool_shm_vf *vfs = state_vfs(sort_ctx->hdr);

	return strcmp(vfs[*(const uint32_t *)a].pci_addr, vfs[*(const uint32_t *)b].pci_addr);
}

void engine_reindex_pci(struct engine *e)
{
	e->n_pci_sorted = 0;
	for (uint32_t i = 0; i < e->hdr->n_vfs; i++)
		if (state_vfs(e->hdr)[i].pci_addr[0])
			e->pci_sorted[e->n_pci_sorted++] = i;
	sort_ctx = e;
	qsort(e->pci_sorted, e->n_pci_sorted, sizeof(*e->pci_sorted), cmp_pci);
	sort_ctx = NULL;
}

int engine_init(struct engine *e, struct vfpool_state_hdr *hdr)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->hdr = hdr;
	e->next_generation = 1;
	r = state_seg_pool(hdr, &e->pool);
	if (r)
		return r;
	/* per VF slot the segment can hold: PFs that come after start add slots */
	r = lease_index_new(hdr->vf_capacity ? hdr->vf_capacity : 1, &e->leases);
	if (r)
		goto fail;
	r = vm_quota_new(hdr->vf_capacity ? hdr->vf_capacity : 1, &e->quota);
	if (r)
		goto fail;
	e->pci_sorted = calloc(hdr->vf_capacity ? hdr->vf_capacity : 1, sizeof(*e->pci_sorted));
	e->slot_profile = calloc(hdr->vf_capacity ? hdr->vf_capacity : 1,
				 sizeof(*e->slot_profile));
	if (!e->pci_sorted || !e->slot_profile) {
		r = -ENOMEM;
		goto fail;
	}
	engine_reindex_pci(e);
	return 0;
fail:
	engine_fini(e);
	return r;
}

void engine_fini(struct engine *e)
{
	/* completions still pending: their requests end with the daemon */
	pending_cache_fini(&e->pending);
	pool_views_free(&e->pool);
	lease_index_free(e->leases);
	vm_quota_free(e->quota);
	free(e->pci_sorted);
	free(e->slot_profile);
	memset(e, 0, sizeof(*e));
}

int64_t engine_find_pci(const struct engine *e, const char *pci)
{
	const struct vfpool_shm_vf *vfs = state_vfs(e->hdr);
	uint32_t lo = 0, hi = e->n_pci_sorted;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(vfs[e->pci_sorted[mid]].pci_addr, pci);

		if (c == 0)
			return e->pci_sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

static const char *reason_text(enum vfpool_block_reason r)
{
	switch (r) {
	case VFPOOL_BLOCK_HOST_BUSY: return "host device on top";
	case VFPOOL_BLOCK_IOMMU_SHARED: return "IOMMU group shared";
	case VFPOOL_BLOCK_BOUND_OTHER: return "bound by another party";
	case VFPOOL_BLOCK_ABSENT: return "does not exist";
	case VFPOOL_BLOCK_DIRTY: return "quarantined after a failed reset";
	default: return "blocked";
	}
}

static void fill_lease(const struct engine *e, uint32_t slot, struct vfpool_cqe *c)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	const struct vfpool_shm_pf *pf = &state_pfs(e->hdr)[vf->pf_index];

	c->vf_slot = slot;
	c->pf_index = vf->pf_index;
	c->vf_index = vf->vf_index;
	c->iommu_group = vf->iommu_group;
	c->numa_node = vf->numa_node;
	c->ifindex = vf->ifindex;
	c->generation = vf->lease_gen;
	memcpy(c->pci_addr, vf->pci_addr, sizeof(c->pci_addr));
	memcpy(c->netdev, vf->netdev, sizeof(c->netdev));
	memcpy(c->pf_netdev, pf->netdev, sizeof(c->pf_netdev));
	/* a lease served again: the binding vfpool made for it (core/vfio) */
	if (vf->state == VFPOOL_VF_LEASED && (vf->lease_flags & VFPOOL_LEASE_F_VFIO) &&
	    vf->cfg_state != VFPOOL_CFG_PENDING)
		c->flags |= VFPOOL_CQE_F_VFIO;
}

static const char *pf_label(const struct vfpool_shm_pf *pf)
{
	return pf->netdev[0] ? pf->netdev : pf->pci_addr;
}

/* Why one PF had nothing to give: "eth3: 0 free of 8 VFs", "eth4: IOMMU group shared" (all
 * of its free VFs blocked for that one reason), or a breakdown when several apply. */
static int explain_pf(const struct engine *e, uint32_t p, char *buf, size_t n)
{
	const struct vfpool_shm_pf *pf = &state_pfs(e->hdr)[p];
	struct pf_block_counts c;
	unsigned blocked = 0, reasons = 0;
	int last = -1, w;

	pool_pf_count(&e->pool.pfs[p], &c);
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++) {
		if (r == VFPOOL_BLOCK_ABSENT || !c.blocked[r])
			continue;
		blocked += c.blocked[r];
		reasons++;
		last = r;
	}
	if (c.allocatable == 0 && c.leased == 0 && reasons == 1)
		return snprintf(buf, n, "%s: %s", pf_label(pf), reason_text((enum vfpool_block_reason)last));
	w = snprintf(buf, n, "%s: %u free of %u VFs", pf_label(pf), c.allocatable, c.existing);
	if (w < 0 || (size_t)w >= n || !blocked)
		return w;
	for (int r = 0, first = 1; r < VFPOOL_BLOCK_NR; r++) {
		int k;

		if (r == VFPOOL_BLOCK_ABSENT || !c.blocked[r])
			continue;
		k = snprintf(buf + w, n - (size_t)w, "%s%u %s", first ? " (" : ", ", c.blocked[r],
			     reason_text((enum vfpool_block_reason)r));
		if (k < 0 || (size_t)(w + k) >= n)
			return w + (k < 0 ? 0 : k);
		w += k;
		first = 0;
	}
	return w + snprintf(buf + w, n - (size_t)w, ")");
}

/* The host-filter answer: each PF and why it was not used. */
static void explain_no_vf(const struct engine *e, const char *network, const struct pf_set *allowed,
			  char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t p = 0; p < e->pool.n_pfs && off < n; p++) {
		int w;

		if (off) {
			w = snprintf(buf + off, n - off, "; ");
			if (w < 0)
				break;
			off += (size_t)w;
			if (off >= n)
				break;
		}
		if (allowed && !pf_set_has(allowed, p))
			w = snprintf(buf + off, n - off, "%s: network %s not allowed",
				     pf_label(&state_pfs(e->hdr)[p]), network);
		else
			w = explain_pf(e, p, buf + off, n - off);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (e->pool.n_pfs == 0)
		snprintf(buf, n, "no SR-IOV PF on this host");
	else if (off == 0)
		snprintf(buf, n, "network %s: no PF on this host", network);
}

static void complete_err(struct vfpool_cqe *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void complete_err(struct vfpool_cqe *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->res = err;
	memset(c->message, 0, sizeof(c->message));
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

static void record_lease(struct engine *e, uint32_t slot, const struct request *req)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	vf->state = VFPOOL_VF_LEASED;
	vf->lease_gen = e->next_generation++;
	memcpy(vf->vm_id, req->vm_id, sizeof(vf->vm_id));
	memcpy(vf->vnic_id, req->vnic_id, sizeof(vf->vnic_id));
	memcpy(vf->network, req->network, sizeof(vf->network));
	memcpy(vf->mac, req->mac, sizeof(vf->mac));
	if (req->bind_pid > 0)
		vf->lease_flags |= VFPOOL_LEASE_F_PID_BOUND;
	memcpy(e->slot_profile[slot], req->profile, sizeof(e->slot_profile[slot]));
}

/* What an alloc made, so a failed chain can put it back exactly as it was. */
struct alloc_undo {
	bool fresh; /* a new lease (not an existing one found again) */
	uint32_t pf, pf_slot, slot;
	uint64_t prev_gen;
};

static void undo_alloc(struct engine *e, const struct alloc_undo *u)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[u->slot];
	struct lease_key k;

	if (!u->fresh)
		return;
	k = lease_key_of(vf->vm_id, vf->vnic_id);
	vm_quota_add_key(e->quota, &k, -1);
	lease_index_remove_key(e->leases, &k);
	pool_release_vf(&e->pool.pfs[u->pf], u->pf_slot);
	vf->state = VFPOOL_VF_FREE;
	vf->lease_gen = u->prev_gen;
	vf->lease_flags &= (uint16_t)~VFPOOL_LEASE_F_PID_BOUND;
	memset(vf->vm_id, 0, sizeof(vf->vm_id));
	memset(vf->vnic_id, 0, sizeof(vf->vnic_id));
	memset(vf->network, 0, sizeof(vf->network));
	memset(vf->mac, 0, sizeof(vf->mac));
	memset(e->slot_profile[u->slot], 0, sizeof(e->slot_profile[u->slot]));
}

static bool policy_on(const struct engine *e)
{
	return e->policy && e->policy->n_nets > 0;
}

/* An alloc request as resolved before any VF is chosen for it. */
struct alloc_plan {
	struct request req;           /* its network filled from the profile */
	const struct pf_set *allowed; /* the PFs that may serve it; NULL: all */
	bool optional;                /* "preferred" profile: no VF is the bridge, not a failure */
	unsigned how;                 /* POOL_ALLOC_* */
	enum placement_mode mode;
};

/* Profile -> network -> the PFs allowed to serve it (NULL: all). 0; else c is completed:
 * a failure, or VFPOOL_CQE_USE_BRIDGE for a vNIC whose profile is not passthrough. */
static int resolve(const struct engine *e, struct alloc_plan *plan, struct vfpool_cqe *c)
{
	struct request *req = &plan->req;

	plan->allowed = NULL;
	plan->optional = false;
	plan->how = 0;
	plan->mode = e->placement;
	if (req->flags & VFPOOL_REQ_F_PROFILE) {
		const struct policy_profile *pr =
			e->policy ? policy_find_profile(e->policy, req->profile) : NULL;

		if (!pr) {
			complete_err(c, -ENOENT, "%s/%s: profile %s not defined", req->vm_id,
				     req->vnic_id, req->profile);
			return -1;
		}
		if (req->network[0] && strcmp(req->network, pr->network) != 0) {
			complete_err(c, -EINVAL, "%s/%s: network %s is not profile %s's (%s)",
				     req->vm_id, req->vnic_id, req->network, pr->name, pr->network);
			return -1;
		}
		/* a bridge vNIC: part of the VM's request, answered without a VF */
		if (pr->passthrough == POLICY_PT_NONE) {
			complete_err(c, VFPOOL_CQE_USE_BRIDGE,
				     "%s/%s: profile %s is not passthrough: the bridge", req->vm_id,
				     req->vnic_id, req->profile);
			return -1;
		}
		memcpy(req->network, pr->network, sizeof(req->network));
		plan->optional = pr->passthrough == POLICY_PT_PREFERRED;
		if (pr->placement != POLICY_PLACE_DAEMON)
			plan->mode = pr->placement == POLICY_PLACE_PACK ? PLACEMENT_PACK
									: PLACEMENT_SPREAD;
		if (pr->numa == POLICY_NUMA_REQUIRED)
			plan->how |= POOL_ALLOC_NUMA_REQUIRED;
	}
	if (req->flags & VFPOOL_REQ_F_NUMA_REQUIRED)
		plan->how |= POOL_ALLOC_NUMA_REQUIRED;
	if (plan->mode == PLACEMENT_PACK)
		plan->how |= POOL_ALLOC_PACK;
	if (policy_on(e)) {
		plan->allowed = policy_allowed(e->policy, req->network);
		if (!plan->allowed) {
			complete_err(c, -ENOENT, "%s/%s: network %s not defined", req->vm_id,
				     req->vnic_id, req->network);
			return -1;
		}
	}
	return 0;
}

/* A vNIC asked for again gets its lease as it is: nothing of the request is applied anew.
 * A request that asks for something else (another MAC, another pinned VF) is refused
 * naming the difference, never answered with a lease that does not have it. */
static bool held_lease_differs(const struct request *req, const struct vfpool_shm_vf *vf,
			       struct vfpool_cqe *c)
{
	static const uint8_t none[6];
	char want[18], have[18];

	if ((req->flags & VFPOOL_REQ_F_PIN) && strcmp(req->pin_pci, vf->pci_addr) != 0) {
		complete_err(c, -EEXIST, "%s/%s: already holds %s, not %s; release it first",
			     req->vm_id, req->vnic_id, vf->pci_addr, req->pin_pci);
		return true;
	}
	if (!(req->flags & VFPOOL_REQ_F_MAC) || memcmp(req->mac, vf->mac, 6) == 0)
		return false;
	snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", req->mac[0], req->mac[1],
		 req->mac[2], req->mac[3], req->mac[4], req->mac[5]);
	if (memcmp(vf->mac, none, 6) == 0) {
		complete_err(c, -EEXIST, "%s/%s: already holds %s with no MAC set, not %s; "
			     "release it first", req->vm_id, req->vnic_id, vf->pci_addr, want);
		return true;
	}
	snprintf(have, sizeof(have), "%02x:%02x:%02x:%02x:%02x:%02x", vf->mac[0], vf->mac[1],
		 vf->mac[2], vf->mac[3], vf->mac[4], vf->mac[5]);
	complete_err(c, -EEXIST, "%s/%s: already holds %s with MAC %s, not %s; release it first",
		     req->vm_id, req->vnic_id, vf->pci_addr, have, want);
	return true;
}

/* Everything an alloc checks before it chooses a VF. 0: a new lease is to be made; else c
 * is completed (a failure, the lease the vNIC holds already, the bridge). chain_new: new
 * leases for the same VM earlier in the same chain (the per-VM limit counts them). */
static int alloc_prepare(struct engine *e, const struct request *in, struct vfpool_cqe *c,
			 struct alloc_plan *plan, unsigned chain_new)
{
	const struct request *req = &plan->req;
	struct lease_key key;
	uint32_t held, owner;

	plan->req = *in;
	key = req_key(req);
	if (resolve(e, plan, c))
		return -1;
	if (lease_index_lookup(e->leases, &key, &held, &owner) == 0) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[held];

		/* someone else's lease is not found again for another uid: that would hand
		 * it over (its VF, and the generation that releases it) */
		if (!engine_may_change(req, owner)) {
			complete_err(c, -EPERM, "%s/%s: leased by uid %u, not by uid %u",
				     req->vm_id, req->vnic_id, (unsigned)owner, (unsigned)req->uid);
			return -1;
		}
		/* a retry after a lost completion finds its lease; a different request is a
		 * conflict the launcher must see */
		/* whole fields: both are zero past their NUL (the record is written whole, the
		 * request decoded into zeros) */
		if (memcmp(vf->network, req->network, sizeof(vf->network)) != 0) {
			complete_err(c, -EEXIST, "%s/%s: already holds %s on network %s",
				     req->vm_id, req->vnic_id, vf->pci_addr, vf->network);
			return -1;
		}
		if (held_lease_differs(req, vf, c))
			return -1;
		fill_lease(e, held, c);
		c->flags |= VFPOOL_CQE_F_EXISTING;
		return 1;
	}
	if (e->max_leases_per_vm &&
	    vm_quota_count_key(e->quota, &key) + chain_new >= e->max_leases_per_vm) {
		complete_err(c, -EDQUOT, "%s: %u leases, the limit", req->vm_id, e->max_leases_per_vm);
		return -1;
	}
	/* a lease that could not be made durable is never made: asked before anything
	 * changes (the journal keeps space for it, and for every release) */
	if (e->commit && e->commit->room && e->commit->room(e->commit, e, c) < 0)
		return -1;
	return 0;
}

/* A pinned request's VF. 0 and *ret_pick, or -1 with c completed. */
static int claim_pin(struct engine *e, const struct alloc_plan *plan, struct vfpool_cqe *c,
		     struct pool_pick *ret_pick)
{
	const struct request *req = &plan->req;
	int64_t slot = engine_find_pci(e, req->pin_pci);
	enum vfpool_block_reason why = VFPOOL_BLOCK_NR;
	struct pool_pick pick = { 0 };
	int r;

	if (slot < 0) {
		complete_err(c, -ENODEV, "%s: no such VF on this host", req->pin_pci);
		return -1;
	}
	pick.pf = state_vfs(e->hdr)[slot].pf_index;
	pick.slot = (uint32_t)slot - state_pfs(e->hdr)[pick.pf].vf_first;
	if (plan->allowed && !pf_set_has(plan->allowed, pick.pf)) {
		complete_err(c, -EPERM, "%s: %s: network %s not allowed", req->pin_pci,
			     pf_label(&state_pfs(e->hdr)[pick.pf]), req->network);
		return -1;
	}
	r = pool_claim_vf_at(&e->pool.pfs[pick.pf], pick.slot, &why);
	if (r) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

		if (r == -EBUSY)
			complete_err(c, -EBUSY, "%s: leased to %s/%s", req->pin_pci, vf->vm_id,
				     vf->vnic_id);
		else
			complete_err(c, -EPERM, "%s: %s", req->pin_pci,
				     vf->reason[0] ? vf->reason : reason_text(why));
		return -1;
	}
	*ret_pick = pick;
	return 0;
}

/* No eligible VF: a failure, or for a "preferred" profile the answer "use the bridge";
 * either way each PF and why it had none. */
static void no_vf(const struct engine *e, const struct alloc_plan *plan, struct vfpool_cqe *c)
{
	const struct request *req = &plan->req;
	size_t off = 0;
	int w = 0;

	memset(c->message, 0, sizeof(c->message));
	c->res = plan->optional ? VFPOOL_CQE_USE_BRIDGE : -ENOSPC;
	if ((plan->how & POOL_ALLOC_NUMA_REQUIRED) && req->numa_node >= 0)
		w = snprintf(c->message, sizeof(c->message), "none on NUMA node %d (required): ",
			     req->numa_node);
	if (w > 0 && (size_t)w < sizeof(c->message))
		off = (size_t)w;
	explain_no_vf(e, req->network, plan->allowed, c->message + off, sizeof(c->message) - off);
}

/* Records the lease on the VF pick claimed for plan; the caller holds the seqlock write
 * section. On failure c is completed and the VF returned. */
static void make_lease(struct engine *e, const struct alloc_plan *plan,
		       const struct pool_pick *pick, struct vfpool_cqe *c, struct alloc_undo *u)
{
	const struct request *req = &plan->req;
	struct lease_key key = req_key(req);
	uint32_t slot = state_pfs(e->hdr)[pick->pf].vf_first + pick->slot;
	uint64_t prev_gen = state_vfs(e->hdr)[slot].lease_gen;
	int r;

	record_lease(e, slot, req);
	r = lease_index_insert_key(e->leases, &key, slot, req->uid);
	if (r) {
		/* cannot happen while the index holds one entry per slot; undo rather than
		 * hand out a lease nobody could release */
		pool_release_vf(&e->pool.pfs[pick->pf], pick->slot);
		state_vfs(e->hdr)[slot].state = VFPOOL_VF_FREE;
		complete_err(c, r, "%s/%s: lease index: %s", req->vm_id, req->vnic_id, strerror(-r));
		return;
	}
	*u = (struct alloc_undo){ .fresh = true, .pf = pick->pf, .pf_slot = pick->slot,
				  .slot = slot, .prev_gen = prev_gen };
	vm_quota_add_key(e->quota, &key, 1);
	fill_lease(e, slot, c);
	if (pick->numa_miss)
		c->flags |= VFPOOL_CQE_F_NUMA_MISS;
}

/* One alloc; the caller holds the seqlock write section. */
static void alloc_locked(struct engine *e, const struct request *in, struct vfpool_cqe *c,
			 struct alloc_undo *u)
{
	struct alloc_plan plan;
	struct pool_pick pick = { 0 };

	memset(u, 0, sizeof(*u));
	if (alloc_prepare(e, in, c, &plan, 0))
		return;
	if (plan.req.flags & VFPOOL_REQ_F_PIN) {
		if (claim_pin(e, &plan, c, &pick))
			return;
	} else if (pool_alloc_how(&e->pool, plan.allowed, plan.req.numa_node, plan.how, &pick)) {
		/* "nice to have": no eligible VF is an answer, not a failure */
		no_vf(e, &plan, c);
		return;
	}
	make_lease(e, &plan, &pick, c, u);
}

/* The PFs a chain entry may take a VF from, as a placement item. */
static void placement_item_of(const struct engine *e, const struct alloc_plan *plan,
			      struct placement_item *it)
{
	const struct request *req = &plan->req;

	memset(it, 0, sizeof(*it));
	if (plan->allowed)
		it->eligible = *plan->allowed;
	else
		pf_set_fill(&it->eligible, e->pool.n_pfs);
	if ((plan->how & POOL_ALLOC_NUMA_REQUIRED) && req->numa_node >= 0)
		for (uint32_t p = 0; p < e->pool.n_pfs; p++)
			if (e->pool.pfs[p].numa_node != req->numa_node)
				it->eligible.bits[p / 64] &= ~(UINT64_C(1) << (p % 64));
	it->numa_node = req->numa_node;
	it->mode = plan->mode;
	it->optional = plan->optional;
}

/* The VFs a chain claimed before any of its leases is recorded. */
struct chain_claims {
	struct pool_pick pick[VFPOOL_CHAIN_MAX];
	bool held[VFPOOL_CHAIN_MAX];
};

static void release_claims(struct engine *e, struct chain_claims *cl, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!cl->held[i])
			continue;
		pool_release_vf(&e->pool.pfs[cl->pick[i].pf], cl->pick[i].slot);
		cl->held[i] = false;
	}
}

/* For spread: the VFs the chain's VM holds on each PF already (a hot plug of vNICs goes
 * to the PFs it has none on first). Left zero when the chain is several VMs' (the k8s
 * plugin's pinned devices) or nothing spreads. */
static void held_by_vm(const struct engine *e, const struct alloc_plan *plan, unsigned n,
		       const struct chain_claims *cl, uint32_t *held)
{
	const struct vfpool_shm_vf *vfs = state_vfs(e->hdr);
	bool spread = false;

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(plan[i].req.vm_id, plan[0].req.vm_id) != 0)
			return;
		spread |= plan[i].mode == PLACEMENT_SPREAD;
	}
	if (!spread)
		return;
	for (unsigned i = 0; i < n; i++) /* its pinned vNICs' VFs, claimed already */
		if (cl->held[i])
			held[cl->pick[i].pf]++;
	if (vm_quota_count(e->quota, plan[0].req.vm_id) == 0)
		return;
	for (uint32_t i = 0; i < e->hdr->n_vfs; i++)
		if (vfs[i].state == VFPOOL_VF_LEASED && vfs[i].pf_index < e->pool.n_pfs &&
		    strcmp(vfs[i].vm_id, plan[0].req.vm_id) == 0)
			held[vfs[i].pf_index]++;
}

/* Places the chain's entries that need a new VF and are not pinned (the pins' VFs are
 * claimed already, so no capacity counts them), and claims a VF for each. n, or the
 * entry that failed (completed; every claim of the chain is then given back). */
static unsigned claim_placed(struct engine *e, const struct alloc_plan *plan, const bool *todo,
			     unsigned n, struct vfpool_cqe *cqes, struct chain_claims *cl)
{
	unsigned entry_of[PLACEMENT_MAX_ITEMS], failed = n, f;
	int32_t bin[PLACEMENT_MAX_ITEMS];
	struct placement pl;
	int r;

	memset(&pl, 0, sizeof(pl));
	for (unsigned i = 0; i < n; i++) {
		if (!todo[i] || (plan[i].req.flags & VFPOOL_REQ_F_PIN))
			continue;
		entry_of[pl.n_items] = i;
		placement_item_of(e, &plan[i], &pl.items[pl.n_items++]);
	}
	if (!pl.n_items)
		return n;
	pl.n_bins = e->pool.n_pfs;
	for (uint32_t p = 0; p < e->pool.n_pfs; p++) {
		struct pf_block_counts counts;

		pool_pf_count(&e->pool.pfs[p], &counts);
		pl.capacity[p] = counts.allocatable;
		pl.numa[p] = e->pool.pfs[p].numa_node;
	}
	held_by_vm(e, plan, n, cl, pl.held);
	/* relaxed: the rotor only spreads load; any value is correct */
	pl.rotor = atomic_fetch_add_explicit(&e->pool.rotor, 1, memory_order_relaxed);
	r = placement_solve(&pl, bin, &f);
	if (r == -EINVAL) {
		no_vf(e, &plan[entry_of[0]], &cqes[entry_of[0]]);
		release_claims(e, cl, n);
		return entry_of[0];
	}
	if (r == -ENOSPC)
		failed = entry_of[f];
	/* on -ENOSPC the others' VFs are claimed too, so that the failing vNIC's reason counts
	 * what the rest of its VM would have left it; then every claim is given back */
	for (unsigned k = 0; k < pl.n_items && failed == n; k++) {
		unsigned i = entry_of[k];
		int32_t node = plan[i].req.numa_node;
		struct pool_pick *pick = &cl->pick[i];

		*pick = (struct pool_pick){ .pf = (uint32_t)bin[k] };
		/* a claim can still lose to a VF blocked since the count (the probe) */
		if (bin[k] < 0 || pool_claim_vf(&e->pool.pfs[bin[k]], &pick->slot)) {
			no_vf(e, &plan[i], &cqes[i]);
			if (cqes[i].res < 0)
				failed = i;
			continue; /* an optional entry: the bridge */
		}
		pick->numa_miss = node >= 0 && e->pool.pfs[pick->pf].numa_node != node;
		cl->held[i] = true;
	}
	for (unsigned k = 0; k < pl.n_items && r == -ENOSPC; k++) {
		unsigned i = entry_of[k];

		if (bin[k] < 0 || cl->held[i])
			continue;
		if (pool_claim_vf(&e->pool.pfs[bin[k]], &cl->pick[i].slot) == 0) {
			cl->pick[i].pf = (uint32_t)bin[k];
			cl->held[i] = true;
		}
	}
	if (failed < n) {
		if (r == -ENOSPC)
			no_vf(e, &plan[failed], &cqes[failed]);
		release_claims(e, cl, n);
	}
	return failed;
}

/* The allocations of a chain, all placed at once (the caller holds the seqlock write
 * section): every entry checked first; pinned ones claim their VF; the others are placed
 * together (core/model/placement.h), so a placement is found whenever one exists,
 * whatever the order of the entries. Only then are the leases recorded, in entry order
 * (their generations grow along the chain). Returns n, or the entry that failed (its
 * completion says why; undo[] says what to put back). */
static unsigned place_chain(struct engine *e, const struct request *reqs, unsigned n,
			    struct vfpool_cqe *cqes, struct alloc_undo *undo)
{
	struct alloc_plan plan[VFPOOL_CHAIN_MAX];
	bool todo[VFPOOL_CHAIN_MAX] = { 0 };
	struct chain_claims cl;
	unsigned failed;

	memset(undo, 0, n * sizeof(*undo));
	memset(&cl, 0, sizeof(cl));
	for (unsigned i = 0; i < n; i++) {
		unsigned same_vm_new = 0;

		for (unsigned j = 0; j < i; j++) {
			if (strcmp(reqs[i].vm_id, reqs[j].vm_id) != 0)
				continue;
			if (strcmp(reqs[i].vnic_id, reqs[j].vnic_id) == 0) {
				complete_err(&cqes[i], -EINVAL, "%s/%s: listed twice in one request",
					     reqs[i].vm_id, reqs[i].vnic_id);
				return i;
			}
			same_vm_new += todo[j];
		}
		if (alloc_prepare(e, &reqs[i], &cqes[i], &plan[i], same_vm_new)) {
			if (cqes[i].res < 0)
				return i;
			continue; /* held already, or the bridge */
		}
		todo[i] = true;
	}
	/* pinned first: a VF named is that vNIC's only choice */
	for (unsigned i = 0; i < n; i++) {
		if (!todo[i] || !(plan[i].req.flags & VFPOOL_REQ_F_PIN))
			continue;
		if (claim_pin(e, &plan[i], &cqes[i], &cl.pick[i])) {
			release_claims(e, &cl, n);
			return i;
		}
		cl.held[i] = true;
	}
	failed = claim_placed(e, plan, todo, n, cqes, &cl);
	if (failed < n)
		return failed;
	for (unsigned i = 0; i < n; i++) {
		if (!cl.held[i])
			continue;
		cl.held[i] = false; /* the lease's now, or given back by make_lease */
		make_lease(e, &plan[i], &cl.pick[i], &cqes[i], &undo[i]);
		if (cqes[i].res < 0) {
			release_claims(e, &cl, n);
			return i;
		}
	}
	return n;
}

/* Returns the slot of the lease it made, or -1: none made (a failure, or the lease the
 * (VM, vNIC) already held, found again). */
static int64_t serve_alloc(struct engine *e, const struct request *req, struct vfpool_cqe *c)
{
	struct alloc_undo u = { 0 };

	seqlock_write_begin(&e->hdr->seq);
	alloc_locked(e, req, c, &u);
	seqlock_write_end(&e->hdr->seq);
	return c->res == 0 && u.fresh ? (int64_t)u.slot : -1;
}

unsigned engine_profile_leases(const struct engine *e, const char *profile)
{
	const struct vfpool_shm_vf *vfs = state_vfs(e->hdr);
	unsigned n = 0;

	for (uint32_t i = 0; i < e->hdr->n_vfs; i++)
		if (vfs[i].state == VFPOOL_VF_LEASED && strcmp(e->slot_profile[i], profile) == 0)
			n++;
	return n;
}

/* Ends a lease's record; with return_vf the VF goes back to the pool in the same seqlock
 * section, so no reader sees a taken VF whose lease is already gone. */
static void clear_lease(struct engine *e, uint32_t slot, const struct lease_key *k,
			bool return_vf)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	seqlock_write_begin(&e->hdr->seq);
	if (return_vf)
		pool_release_vf(&e->pool.pfs[vf->pf_index],
				slot - state_pfs(e->hdr)[vf->pf_index].vf_first);
	vf->state = VFPOOL_VF_FREE;
	memset(vf->vm_id, 0, sizeof(vf->vm_id));
	memset(vf->vnic_id, 0, sizeof(vf->vnic_id));
	memset(vf->network, 0, sizeof(vf->network));
	memset(vf->mac, 0, sizeof(vf->mac));
	vf->vlan = 0;
	vf->vlan_qos = 0;
	vf->mtu = 0;
	vf->cfg_state = VFPOOL_CFG_NONE;
	vf->lease_flags &= (uint16_t)~(VFPOOL_LEASE_F_CFG_RECORDED | VFPOOL_LEASE_F_PID_BOUND);
	memset(e->slot_profile[slot], 0, sizeof(e->slot_profile[slot]));
	seqlock_write_end(&e->hdr->seq);
	lease_index_remove_key(e->leases, k);
	vm_quota_add_key(e->quota, k, -1);
}

static uint32_t pf_slot(const struct engine *e, uint32_t slot)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	return slot - state_pfs(e->hdr)[vf->pf_index].vf_first;
}

void engine_return_vf(struct engine *e, uint32_t slot)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	seqlock_write_begin(&e->hdr->seq);
	pool_release_vf(&e->pool.pfs[vf->pf_index], pf_slot(e, slot));
	seqlock_write_end(&e->hdr->seq);
}

bool engine_may_change(const struct request *req, uint32_t owner_uid)
{
	return req->admin || req->uid == 0 || owner_uid == LEASE_OWNER_UNKNOWN ||
	       req->uid == owner_uid;
}

int64_t engine_lease_owner(const struct engine *e, uint32_t slot)
{
	const struct vfpool_shm_vf *vf;

	if (slot >= e->hdr->n_vfs)
		return -ENOENT;
	vf = &state_vfs(e->hdr)[slot];
	if (vf->state != VFPOOL_VF_LEASED)
		return -ENOENT;
	return lease_index_owner(e->leases, vf->vm_id, vf->vnic_id);
}

void engine_forget_lease(struct engine *e, uint32_t slot, uint64_t generation)
{
	struct vfpool_shm_vf *vf;
	char vm_id[VFPOOL_VM_ID_MAX], vnic_id[VFPOOL_VNIC_ID_MAX];
	struct lease_key k;

	if (slot >= e->hdr->n_vfs)
		return;
	vf = &state_vfs(e->hdr)[slot];
	if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != generation)
		return;
	memcpy(vm_id, vf->vm_id, sizeof(vm_id));
	memcpy(vnic_id, vf->vnic_id, sizeof(vnic_id));
	k = lease_key_of(vm_id, vnic_id);
	clear_lease(e, slot, &k, true);
}

void engine_undo_lease(struct engine *e, uint32_t slot, uint64_t generation)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	char vm_id[VFPOOL_VM_ID_MAX], vnic_id[VFPOOL_VNIC_ID_MAX];
	struct lease_key k;

	if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != generation)
		return;
	memcpy(vm_id, vf->vm_id, sizeof(vm_id));
	memcpy(vnic_id, vf->vnic_id, sizeof(vnic_id));
	k = lease_key_of(vm_id, vnic_id);
	clear_lease(e, slot, &k, true);
	/* the journal has the lease: record that it is gone (nobody waits for that record
	 * but the completion of the request that failed: pending_configured) */
	if (e->commit) {
		struct request req = { .op = VFPOOL_OP_RELEASE };

		memcpy(req.vm_id, vm_id, sizeof(req.vm_id));
		memcpy(req.vnic_id, vnic_id, sizeof(req.vnic_id));
		e->commit->stage(e->commit, e, &req, slot, false, generation);
	}
}

void engine_quarantine(struct engine *e, uint32_t slot, const char *reason)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	seqlock_write_begin(&e->hdr->seq);
	pool_set_blocked(&e->pool.pfs[vf->pf_index], pf_slot(e, slot), VFPOOL_BLOCK_DIRTY, true);
	snprintf(vf->reason, sizeof(vf->reason), "%s", reason);
	pool_release_vf(&e->pool.pfs[vf->pf_index], pf_slot(e, slot));
	seqlock_write_end(&e->hdr->seq);
}

int engine_hold_vf(struct engine *e, uint32_t slot)
{
	enum vfpool_block_reason why = VFPOOL_BLOCK_NR;
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	int r;

	seqlock_write_begin(&e->hdr->seq);
	r = pool_claim_vf_at(&e->pool.pfs[vf->pf_index], pf_slot(e, slot), &why);
	seqlock_write_end(&e->hdr->seq);
	return r;
}

/* Returns the slot whose lease it ended, or -1. */
static int64_t serve_release(struct engine *e, const struct request *req, struct vfpool_cqe *c)
{
	struct lease_key key = req_key(req);
	struct vfpool_shm_vf *vf;
	uint32_t slot, owner;
	uint64_t gen;
	bool keep;

	if (lease_index_lookup(e->leases, &key, &slot, &owner) < 0) {
		complete_err(c, -ENOENT, "%s/%s: holds no lease", req->vm_id, req->vnic_id);
		return -1;
	}
	vf = &state_vfs(e->hdr)[slot];
	/* before the generation check: another uid learns nothing about the lease */
	if (!engine_may_change(req, owner)) {
		complete_err(c, -EPERM, "%s/%s: leased by uid %u; uid %u may not release it",
			     req->vm_id, req->vnic_id, (unsigned)owner, (unsigned)req->uid);
		return -1;
	}
	if ((req->flags & VFPOOL_REQ_F_GEN) && vf->lease_gen != req->generation) {
		complete_err(c, -ESTALE, "%s/%s: generation %llu is not the lease's (%llu)",
			     req->vm_id, req->vnic_id, (unsigned long long)req->generation,
			     (unsigned long long)vf->lease_gen);
		return -1;
	}
	fill_lease(e, slot, c);
	gen = vf->lease_gen;
	/* a hook that resets the VF keeps it claimed until the reset is done, so no new lease
	 * can meet the old VM's configuration; asked first, so that the record and the bitmap
	 * change together (the hook only queues its work) */
	keep = e->hooks && e->hooks->lease_ended &&
	       e->hooks->lease_ended(e->hooks, e, slot, gen);
	clear_lease(e, slot, &key, !keep);
	return slot;
}

/* Whether a request may complete later: something configures new leases' VFs, or holds
 * completions until their change is durable. */
static bool keeps_requests(const struct engine *e)
{
	return (e->hooks && e->hooks->lease_made) || e->durability;
}

static struct pending_completion *take_pending(struct engine *e, struct completion_sink *sink,
					       const struct request *req)
{
	return pending_get(&e->pending, sink, e->hdr, e->durability, req->op,
			   (req->flags & VFPOOL_REQ_F_EARLY) != 0);
}

/* A lease changed (made: the new one on slot; else the one generation the release ended):
 * its VF is configured, the change staged for the journal, and p (NULL: nothing keeps
 * requests) waits for both. */
static void lease_changed(struct engine *e, const struct request *req,
			  struct pending_completion *p, uint32_t slot, bool made,
			  uint64_t generation)
{
	const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

	if (p) {
		p->slot = slot;
		p->generation = generation;
	}
	/* configured before it is journaled: what the configuration records about the lease
	 * (VFPOOL_LEASE_F_CFG_RECORDED) goes into its record */
	if (made && p && e->hooks && e->hooks->lease_made) {
		p->gates |= PENDING_CONFIGURED;
		e->hooks->lease_made(e->hooks, e, p, req);
		/* a configuration that failed at once undid the lease: nothing to journal */
		if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != generation)
			return;
	}
	/* durable before told: the completion waits until the change is on disk */
	if (e->commit)
		e->commit->stage(e->commit, e, req, slot, made, generation);
	if (p && e->durability && e->durability->hold(e->durability, p))
		p->gates |= PENDING_DURABLE;
}

/* The request is served: what goes to the client now, and what comes later */
static struct engine_served issued(struct engine *e, const struct request *req,
				   struct pending_completion *p, struct vfpool_cqe *c)
{
	if (p)
		return pending_issued(p, c); /* counts a failure it completes now */
	if (c->res < 0)
		req_stats_errors(e->hdr, req_err_kind(req->op, c->res), 1);
	return (struct engine_served){ .now = 1, .later = 0 };
}

struct engine_served engine_serve(struct engine *e, const struct request *req,
				  struct completion_sink *sink, struct vfpool_cqe *c)
{
	struct pending_completion *p = NULL;
	int64_t slot = -1;

	/* the message is written only with an error (complete_err); clear just its first byte */
	memset(c, 0, offsetof(struct vfpool_cqe, message));
	c->message[0] = '\0';
	c->user_data = req->user_data;
	/* relaxed: statistics for ops tools, no ordering with anything */
	atomic_fetch_add_explicit(&e->hdr->requests, 1, memory_order_relaxed);
	if (req->op != VFPOOL_OP_NOP && keeps_requests(e)) {
		/* taken before anything changes: no change is made that its client could not
		 * be told of */
		p = take_pending(e, sink, req);
		if (!p) {
			complete_err(c, -ENOMEM, "%s/%s: out of memory", req->vm_id, req->vnic_id);
			return issued(e, req, NULL, c);
		}
	}
	switch (req->op) {
	case VFPOOL_OP_ALLOC:
		slot = serve_alloc(e, req, c);
		break;
	case VFPOOL_OP_RELEASE:
		slot = serve_release(e, req, c);
		break;
	default:
		break; /* NOP */
	}
	if (slot >= 0)
		lease_changed(e, req, p, (uint32_t)slot, req->op == VFPOOL_OP_ALLOC, c->generation);
	return issued(e, req, p, c);
}

/* A chain that failed: the failing entry names its vNIC (whatever the reason's own wording),
 * every other entry completes with its error and VFPOOL_CQE_F_CHAIN. */
static void fail_chain(struct engine *e, const struct request *reqs, unsigned n, unsigned failed,
		       bool misshapen, struct vfpool_cqe *cqes)
{
	struct vfpool_cqe *f = &cqes[failed];
	char own[sizeof(f->message)];
	int pre = snprintf(own, sizeof(own), "%s/%s: ", reqs[failed].vm_id, reqs[failed].vnic_id);

	if (pre > 0 && strncmp(f->message, own, (size_t)pre) != 0) {
		snprintf(own + pre, sizeof(own) - (size_t)pre, "%s", f->message);
		memcpy(f->message, own, sizeof(f->message));
	}
	for (unsigned i = 0; i < n; i++) {
		if (i == failed)
			continue;
		memset(&cqes[i], 0, sizeof(cqes[i]));
		cqes[i].user_data = reqs[i].user_data;
		cqes[i].flags = VFPOOL_CQE_F_CHAIN;
		complete_err(&cqes[i], f->res, "%s/%s: not allocated: %s/%s failed: %.80s",
			     reqs[i].vm_id, reqs[i].vnic_id, reqs[failed].vm_id,
			     reqs[failed].vnic_id, f->message);
	}
	/* every entry completes with the failing one's error: n failures of its kind */
	req_stats_errors(e->hdr, misshapen ? VFPOOL_ERR_REJECTED
				 : req_err_kind(VFPOOL_OP_ALLOC, f->res), n);
}

unsigned engine_serve_chain(struct engine *e, const struct request *reqs, unsigned n,
			    struct completion_sink *sink, struct vfpool_cqe *cqes,
			    struct engine_served *served)
{
	struct pending_completion *p[VFPOOL_CHAIN_MAX] = { 0 };
	struct alloc_undo undo[VFPOOL_CHAIN_MAX];
	unsigned failed = n, kept = 0;

	if (n > VFPOOL_CHAIN_MAX)
		n = VFPOOL_CHAIN_MAX; /* the ring never gathers more */
	for (unsigned i = 0; i < n; i++) {
		memset(&cqes[i], 0, sizeof(cqes[i]));
		cqes[i].user_data = reqs[i].user_data;
		served[i] = (struct engine_served){ .now = 1, .later = 0 };
	}
	/* a chain is allocations only: anything else refuses it whole, before it claims a VF */
	for (unsigned i = 0; i < n && failed == n; i++) {
		if (reqs[i].op == VFPOOL_OP_ALLOC)
			continue;
		complete_err(&cqes[i], -EINVAL, "%s/%s: only allocations may be linked",
			     reqs[i].vm_id, reqs[i].vnic_id);
		failed = i;
	}
	/* relaxed: statistics for ops tools, no ordering with anything */
	atomic_fetch_add_explicit(&e->hdr->requests, n, memory_order_relaxed);
	if (failed < n) {
		fail_chain(e, reqs, n, failed, true, cqes);
		return 0;
	}
	/* every entry's completion is taken before anything changes */
	for (unsigned i = 0; i < n && failed == n && keeps_requests(e); i++) {
		p[i] = take_pending(e, sink, &reqs[i]);
		if (!p[i]) {
			complete_err(&cqes[i], -ENOMEM, "%s/%s: out of memory", reqs[i].vm_id,
				     reqs[i].vnic_id);
			failed = i;
		}
	}
	if (failed == n) {
		/* one write section: readers see the whole VM leased or nothing of it */
		seqlock_write_begin(&e->hdr->seq);
		failed = place_chain(e, reqs, n, cqes, undo);
		/* backwards: each allocation is undone on the state the later ones left */
		for (unsigned i = n; failed < n && i-- > 0;)
			undo_alloc(e, &undo[i]);
		seqlock_write_end(&e->hdr->seq);
	}
	if (failed < n) {
		for (unsigned i = 0; i < n; i++)
			if (p[i])
				pending_put(p[i]);
		fail_chain(e, reqs, n, failed, false, cqes);
		return 0;
	}
	/* the whole VM is leased: each new lease may still need its VF configured. A failure
	 * there completes that vNIC with the kernel's reason and returns its VF; the others
	 * keep theirs (the claim was all-or-nothing, the configuration is per VF). */
	for (unsigned i = 0; i < n; i++) {
		if (undo[i].fresh)
			lease_changed(e, &reqs[i], p[i], undo[i].slot, true, cqes[i].generation);
		served[i] = issued(e, &reqs[i], p[i], &cqes[i]);
		kept += served[i].later;
	}
	return kept;
}

void engine_reject(struct engine *e, uint64_t user_data, int err, const char *why,
		   struct vfpool_cqe *c)
{
	memset(c, 0, sizeof(*c));
	c->user_data = user_data;
	complete_err(c, err, "request rejected: %s", why);
	/* relaxed: statistics for ops tools, no ordering with anything */
	atomic_fetch_add_explicit(&e->hdr->requests, 1, memory_order_relaxed);
	req_stats_errors(e->hdr, VFPOOL_ERR_REJECTED, 1);
}
