/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/state_segment.h"
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
	e->pci_sorted = calloc(hdr->n_vfs ? hdr->n_vfs : 1, sizeof(*e->pci_sorted));
	if (!e->pci_sorted) {
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
	pool_views_free(&e->pool);
	lease_index_free(e->leases);
	free(e->pci_sorted);
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

/* The host-filter answer: each PF and why it had nothing to give. */
static void explain_no_vf(const struct engine *e, const struct request *req, char *buf, size_t n)
{
	size_t off = 0;

	for (uint32_t p = 0; p < e->pool.n_pfs && off < n; p++) {
		const struct vfpool_shm_pf *pf = &state_pfs(e->hdr)[p];
		struct pf_block_counts c;
		int w;

		pool_pf_count(&e->pool.pfs[p], &c);
		w = snprintf(buf + off, n - off, "%s%s: %u free of %u VFs", off ? "; " : "",
			     pf->netdev[0] ? pf->netdev : pf->pci_addr, c.allocatable, c.existing);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off == 0)
		snprintf(buf, n, "network %s: no PF on this host", req->network);
}

static void complete_err(struct vfpool_cqe *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void complete_err(struct vfpool_cqe *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->res = err;
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
}

static void serve_alloc(struct engine *e, const struct request *req, struct vfpool_cqe *c)
{
	struct pool_pick pick = { 0 };
	int64_t held = lease_index_find(e->leases, req->vm_id, req->vnic_id);
	int r;

	if (held >= 0) {
		const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[held];

		/* a retry after a lost completion finds its lease; a different request is a
		 * conflict the launcher must see */
		if (strcmp(vf->network, req->network) != 0) {
			complete_err(c, -EEXIST, "%s/%s: already holds %s on network %s",
				     req->vm_id, req->vnic_id, vf->pci_addr, vf->network);
			return;
		}
		fill_lease(e, (uint32_t)held, c);
		c->flags |= VFPOOL_CQE_F_EXISTING;
		return;
	}

	seqlock_write_begin(&e->hdr->seq);
	if (req->flags & VFPOOL_REQ_F_PIN) {
		int64_t slot = engine_find_pci(e, req->pin_pci);
		enum vfpool_block_reason why = VFPOOL_BLOCK_NR;

		if (slot < 0) {
			seqlock_write_end(&e->hdr->seq);
			complete_err(c, -ENODEV, "%s: no such VF on this host", req->pin_pci);
			return;
		}
		pick.pf = state_vfs(e->hdr)[slot].pf_index;
		pick.slot = (uint32_t)slot - state_pfs(e->hdr)[pick.pf].vf_first;
		r = pool_claim_vf_at(&e->pool.pfs[pick.pf], pick.slot, &why);
		if (r) {
			const struct vfpool_shm_vf *vf = &state_vfs(e->hdr)[slot];

			seqlock_write_end(&e->hdr->seq);
			if (r == -EBUSY)
				complete_err(c, -EBUSY, "%s: leased to %s/%s", req->pin_pci,
					     vf->vm_id, vf->vnic_id);
			else
				complete_err(c, -EPERM, "%s: %s", req->pin_pci,
					     vf->reason[0] ? vf->reason : reason_text(why));
			return;
		}
	} else {
		r = pool_alloc(&e->pool, NULL, req->numa_node, &pick);
		if (r) {
			seqlock_write_end(&e->hdr->seq);
			c->res = -ENOSPC;
			explain_no_vf(e, req, c->message, sizeof(c->message));
			return;
		}
	}
	uint32_t slot = state_pfs(e->hdr)[pick.pf].vf_first + pick.slot;
	record_lease(e, slot, req);
	seqlock_write_end(&e->hdr->seq);

	r = lease_index_insert(e->leases, req->vm_id, req->vnic_id, slot);
	if (r) {
		/* cannot happen while the index holds one entry per slot; undo rather than
		 * hand out a lease nobody could release */
		seqlock_write_begin(&e->hdr->seq);
		pool_release_vf(&e->pool.pfs[pick.pf], pick.slot);
		state_vfs(e->hdr)[slot].state = VFPOOL_VF_FREE;
		seqlock_write_end(&e->hdr->seq);
		complete_err(c, r, "%s/%s: lease index: %s", req->vm_id, req->vnic_id, strerror(-r));
		return;
	}
	fill_lease(e, slot, c);
	if (pick.numa_miss)
		c->flags |= VFPOOL_CQE_F_NUMA_MISS;
}

static void serve_release(struct engine *e, const struct request *req, struct vfpool_cqe *c)
{
	int64_t slot = lease_index_find(e->leases, req->vm_id, req->vnic_id);
	struct vfpool_shm_vf *vf;
	const struct vfpool_shm_pf *pf;

	if (slot < 0) {
		complete_err(c, -ENOENT, "%s/%s: holds no lease", req->vm_id, req->vnic_id);
		return;
	}
	vf = &state_vfs(e->hdr)[slot];
	pf = &state_pfs(e->hdr)[vf->pf_index];
	if ((req->flags & VFPOOL_REQ_F_GEN) && vf->lease_gen != req->generation) {
		complete_err(c, -ESTALE, "%s/%s: generation %llu is not the lease's (%llu)",
			     req->vm_id, req->vnic_id, (unsigned long long)req->generation,
			     (unsigned long long)vf->lease_gen);
		return;
	}
	fill_lease(e, (uint32_t)slot, c);
	seqlock_write_begin(&e->hdr->seq);
	pool_release_vf(&e->pool.pfs[vf->pf_index], (uint32_t)slot - pf->vf_first);
	vf->state = VFPOOL_VF_FREE;
	memset(vf->vm_id, 0, sizeof(vf->vm_id));
	memset(vf->vnic_id, 0, sizeof(vf->vnic_id));
	memset(vf->network, 0, sizeof(vf->network));
	memset(vf->mac, 0, sizeof(vf->mac));
	seqlock_write_end(&e->hdr->seq);
	lease_index_remove(e->leases, req->vm_id, req->vnic_id);
}

void engine_serve(struct engine *e, const struct request *req, struct vfpool_cqe *c)
{
	memset(c, 0, sizeof(*c));
	c->user_data = req->user_data;
	switch (req->op) {
	case VFPOOL_OP_ALLOC:
		serve_alloc(e, req, c);
		break;
	case VFPOOL_OP_RELEASE:
		serve_release(e, req, c);
		break;
	default:
		break; /* NOP */
	}
	/* relaxed: statistics for ops tools, no ordering with anything */
	atomic_fetch_add_explicit(&e->hdr->requests, 1, memory_order_relaxed);
	if (c->res)
		atomic_fetch_add_explicit(&e->hdr->errors, 1, memory_order_relaxed);
}

void engine_reject(struct engine *e, uint64_t user_data, int err, const char *why,
		   struct vfpool_cqe *c)
{
	memset(c, 0, sizeof(*c));
	c->user_data = user_data;
	complete_err(c, err, "request rejected: %s", why);
	atomic_fetch_add_explicit(&e->hdr->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->hdr->errors, 1, memory_order_relaxed);
}
