/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/req_stats.h"
#include "core/model/vm_quota.h"
#include "core/model/state_segment.h"
#include "shm/seqlock.h"
#include "shm/state.h"

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
	r = lease_index_new(hdr->n_vfs ? hdr->n_vfs : 1, &e->leases);
	if (r)
		goto fail;
	r = vm_quota_new(hdr->n_vfs ? hdr->n_vfs : 1, &e->quota);
	if (r)
		goto fail;
	e->pci_sorted = calloc(hdr->n_vfs ? hdr->n_vfs : 1, sizeof(*e->pci_sorted));
	e->slot_profile = calloc(hdr->n_vfs ? hdr->n_vfs : 1, sizeof(*e->slot_profile));
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
	if (off == 0)
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

	if (!u->fresh)
		return;
	vm_quota_add(e->quota, vf->vm_id, -1);
	lease_index_remove(e->leases, vf->vm_id, vf->vnic_id);
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

/* Profile -> network -> the PFs allowed to serve it (NULL: all). 0, or c completed. */
static int resolve(const struct engine *e, struct request *req, const struct pf_set **ret_allowed,
		   bool *ret_preferred, struct vfpool_cqe *c)
{
	*ret_allowed = NULL;
	*ret_preferred = false;
	if (req->flags & VFPOOL_REQ_F_PROFILE) {
		const struct policy_profile *pr =
			e->policy ? policy_find_profile(e->policy, req->profile) : NULL;

		if (!pr) {
			complete_err(c, -ENOENT, "%s/%s: profile %s not defined", req->vm_id,
				     req->vnic_id, req->profile);
			return -1;
		}
		if (pr->passthrough == POLICY_PT_NONE) {
			complete_err(c, -EINVAL, "%s/%s: profile %s is not passthrough (a bridge vNIC)",
				     req->vm_id, req->vnic_id, req->profile);
			return -1;
		}
		if (req->network[0] && strcmp(req->network, pr->network) != 0) {
			complete_err(c, -EINVAL, "%s/%s: network %s is not profile %s's (%s)",
				     req->vm_id, req->vnic_id, req->network, pr->name, pr->network);
			return -1;
		}
		memcpy(req->network, pr->network, sizeof(req->network));
		*ret_preferred = pr->passthrough == POLICY_PT_PREFERRED;
	}
	if (policy_on(e)) {
		*ret_allowed = policy_allowed(e->policy, req->network);
		if (!*ret_allowed) {
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

/* One alloc; the caller holds the seqlock write section. */
static void alloc_locked(struct engine *e, const struct request *in, struct vfpool_cqe *c,
			 struct alloc_undo *u)
{
	struct request rq = *in, *req = &rq;
	struct pool_pick pick = { 0 };
	const struct pf_set *allowed;
	bool preferred;
	int64_t held;
	int r;

	memset(u, 0, sizeof(*u));
	if (resolve(e, req, &allowed, &preferred, c))
		return;
	held = lease_index_find(e->leases, req->vm_id, req->vnic_id);
	if (held >= 0) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[held];

		int64_t owner = lease_index_owner(e->leases, req->vm_id, req->vnic_id);

		/* someone else's lease is not found again for another uid: that would hand
		 * it over (its VF, and the generation that releases it) */
		if (owner >= 0 && !engine_may_change(req, (uint32_t)owner)) {
			complete_err(c, -EPERM, "%s/%s: leased by uid %u, not by uid %u",
				     req->vm_id, req->vnic_id, (unsigned)owner, (unsigned)req->uid);
			return;
		}
		/* a retry after a lost completion finds its lease; a different request is a
		 * conflict the launcher must see */
		if (strcmp(vf->network, req->network) != 0) {
			complete_err(c, -EEXIST, "%s/%s: already holds %s on network %s",
				     req->vm_id, req->vnic_id, vf->pci_addr, vf->network);
			return;
		}
		if (held_lease_differs(req, vf, c))
			return;
		fill_lease(e, (uint32_t)held, c);
		c->flags |= VFPOOL_CQE_F_EXISTING;
		return;
	}
	if (e->max_leases_per_vm && vm_quota_count(e->quota, req->vm_id) >= e->max_leases_per_vm) {
		complete_err(c, -EDQUOT, "%s: %u leases, the limit", req->vm_id, e->max_leases_per_vm);
		return;
	}
	/* a lease that could not be made durable is never made: asked before anything
	 * changes (the journal keeps space for it, and for every release) */
	if (e->commit && e->commit->room && e->commit->room(e->commit, e, c) < 0)
		return;

	if (req->flags & VFPOOL_REQ_F_PIN) {
		int64_t slot = engine_find_pci(e, req->pin_pci);
		enum vfpool_block_reason why = VFPOOL_BLOCK_NR;

		if (slot < 0) {
			complete_err(c, -ENODEV, "%s: no such VF on this host", req->pin_pci);
			return;
		}
		pick.pf = state_vfs(e->hdr)[slot].pf_index;
		pick.slot = (uint32_t)slot - state_pfs(e->hdr)[pick.pf].vf_first;
		if (allowed && !pf_set_has(allowed, pick.pf)) {
			complete_err(c, -EPERM, "%s: %s: network %s not allowed", req->pin_pci,
				     pf_label(&state_pfs(e->hdr)[pick.pf]), req->network);
			return;
		}
		r = pool_claim_vf_at(&e->pool.pfs[pick.pf], pick.slot, &why);
		if (r) {
			const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

			if (r == -EBUSY)
				complete_err(c, -EBUSY, "%s: leased to %s/%s", req->pin_pci,
					     vf->vm_id, vf->vnic_id);
			else
				complete_err(c, -EPERM, "%s: %s", req->pin_pci,
					     vf->reason[0] ? vf->reason : reason_text(why));
			return;
		}
	} else {
		r = pool_alloc(&e->pool, allowed, req->numa_node, &pick);
		if (r) {
			/* "nice to have": no eligible VF is an answer, not a failure */
			memset(c->message, 0, sizeof(c->message));
			c->res = preferred ? VFPOOL_CQE_USE_BRIDGE : -ENOSPC;
			explain_no_vf(e, req->network, allowed, c->message, sizeof(c->message));
			return;
		}
	}
	uint32_t slot = state_pfs(e->hdr)[pick.pf].vf_first + pick.slot;
	u->prev_gen = state_vfs(e->hdr)[slot].lease_gen;
	record_lease(e, slot, req);
	r = lease_index_insert(e->leases, req->vm_id, req->vnic_id, slot, req->uid);
	if (r) {
		/* cannot happen while the index holds one entry per slot; undo rather than
		 * hand out a lease nobody could release */
		pool_release_vf(&e->pool.pfs[pick.pf], pick.slot);
		state_vfs(e->hdr)[slot].state = VFPOOL_VF_FREE;
		complete_err(c, r, "%s/%s: lease index: %s", req->vm_id, req->vnic_id, strerror(-r));
		return;
	}
	*u = (struct alloc_undo){ .fresh = true, .pf = pick.pf, .pf_slot = pick.slot, .slot = slot,
				  .prev_gen = u->prev_gen };
	vm_quota_add(e->quota, req->vm_id, 1);
	fill_lease(e, slot, c);
	if (pick.numa_miss)
		c->flags |= VFPOOL_CQE_F_NUMA_MISS;
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
static void clear_lease(struct engine *e, uint32_t slot, const char *vm_id, const char *vnic_id,
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
	lease_index_remove(e->leases, vm_id, vnic_id);
	vm_quota_add(e->quota, vm_id, -1);
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

	if (slot >= e->hdr->n_vfs)
		return;
	vf = &state_vfs(e->hdr)[slot];
	if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != generation)
		return;
	memcpy(vm_id, vf->vm_id, sizeof(vm_id));
	memcpy(vnic_id, vf->vnic_id, sizeof(vnic_id));
	clear_lease(e, slot, vm_id, vnic_id, true);
}

void engine_undo_lease(struct engine *e, uint32_t slot, uint64_t generation)
{
	struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];
	char vm_id[VFPOOL_VM_ID_MAX], vnic_id[VFPOOL_VNIC_ID_MAX];

	if (vf->state != VFPOOL_VF_LEASED || vf->lease_gen != generation)
		return;
	memcpy(vm_id, vf->vm_id, sizeof(vm_id));
	memcpy(vnic_id, vf->vnic_id, sizeof(vnic_id));
	clear_lease(e, slot, vm_id, vnic_id, true);
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
	int64_t slot = lease_index_find(e->leases, req->vm_id, req->vnic_id), owner;
	struct vfpool_shm_vf *vf;
	uint64_t gen;
	bool keep;

	if (slot < 0) {
		complete_err(c, -ENOENT, "%s/%s: holds no lease", req->vm_id, req->vnic_id);
		return -1;
	}
	vf = &state_vfs(e->hdr)[slot];
	owner = lease_index_owner(e->leases, req->vm_id, req->vnic_id);
	/* before the generation check: another uid learns nothing about the lease */
	if (owner >= 0 && !engine_may_change(req, (uint32_t)owner)) {
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
	fill_lease(e, (uint32_t)slot, c);
	gen = vf->lease_gen;
	/* a hook that resets the VF keeps it claimed until the reset is done, so no new lease
	 * can meet the old VM's configuration; asked first, so that the record and the bitmap
	 * change together (the hook only queues its work) */
	keep = e->hooks && e->hooks->lease_ended &&
	       e->hooks->lease_ended(e->hooks, e, (uint32_t)slot, gen);
	clear_lease(e, (uint32_t)slot, req->vm_id, req->vnic_id, !keep);
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
	unsigned tried = 0; /* entries alloc_locked ran for: only their undo records are filled */
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
		while (tried < n && failed == n) {
			alloc_locked(e, &reqs[tried], &cqes[tried], &undo[tried]);
			if (cqes[tried].res < 0)
				failed = tried;
			tried++;
		}
		/* backwards: each allocation is undone on the state the later ones left */
		for (unsigned i = tried; failed < n && i-- > 0;)
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
