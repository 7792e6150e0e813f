/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/host/host_apply.h"
#include "core/log.h"
#include "core/model/state_segment.h"
#include "shm/seqlock.h"
#include "shm/state.h"

#define REASON_VANISHED "VF vanished"
#define REASON_CHANGING "numvfs change in progress"

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* Whether the burst's last word on pci is its removal. */
static bool is_gone(const struct host_gone *gone, const char *pci)
{
	for (size_t i = gone ? gone->n : 0; i-- > 0;) {
		const struct host_change *c = &gone->changes[i];

		if (strcmp(c->pci_addr, pci) != 0)
			continue;
		return c->kind == HOST_VF_REMOVED || c->kind == HOST_PF_REMOVED;
	}
	return false;
}

static int fresh_pf_index(const struct host *fresh, const struct host_gone *gone, const char *pci)
{
	if (is_gone(gone, pci))
		return -1;
	for (size_t i = 0; i < fresh->n_pfs; i++)
		if (strcmp(fresh->pfs[i].pci_addr, pci) == 0)
			return (int)i;
	return -1;
}

static const struct host_vf *fresh_vf(const struct host *fresh, const struct host_gone *gone,
				      int fpf, uint32_t index)
{
	if (fpf < 0)
		return NULL;
	for (size_t i = 0; i < fresh->n_vfs; i++)
		if (fresh->vfs[i].pf == (uint32_t)fpf && fresh->vfs[i].vf_index == index)
			return is_gone(gone, fresh->vfs[i].pci_addr) ? NULL : &fresh->vfs[i];
	return NULL;
}

static bool seg_has_pf(const struct vfpool_state_hdr *hdr, const char *pci)
{
	for (uint32_t p = 0; p < hdr->n_pfs; p++)
		if (strcmp(state_pfs(hdr)[p].pci_addr, pci) == 0)
			return true;
	return false;
}

/* The fresh PFs the segment does not have yet and has room for, in fresh's order (by PCI
 * address): they join after the segment's PFs. One that does not fit is logged and left
 * out (every burst says so again: the operator's cue to restart with more room). */
static size_t plan_new_pfs(const struct engine *e, const struct host *fresh,
			   const struct host_gone *gone, uint32_t *ret_new)
{
	uint64_t slots = 0, words = 0;
	size_t n = 0;

	for (size_t i = 0; i < fresh->n_pfs; i++) {
		const struct host_pf *hp = &fresh->pfs[i];
		uint32_t w = pool_pf_words(hp->total_vfs ? hp->total_vfs : 1);

		if (is_gone(gone, hp->pci_addr) || seg_has_pf(e->hdr, hp->pci_addr))
			continue;
		if (w == 0 || !state_seg_has_room(e->hdr, (uint32_t)n + 1, slots + hp->total_vfs,
						  words + w)) {
			log_warn("pf_not_managed", "pci=%s netdev=%s total_vfs=%u reason=\"no room "
				 "left in the state segment (%u PFs, %u VF slots: --max-pfs, "
				 "--max-vfs); restart vfpoold to manage it\"", hp->pci_addr,
				 hp->netdev, hp->total_vfs, e->hdr->pf_capacity,
				 e->hdr->vf_capacity);
			continue;
		}
		slots += hp->total_vfs;
		words += w;
		ret_new[n++] = (uint32_t)i;
	}
	return n;
}

/* The next model: the segment's PFs in its order, then the new ones (add_pfs, indexes into
 * fresh), updated from fresh, and fresh's VFs of those PFs. Leased VFs bound to a
 * passthrough driver are the lessee's, not another party's. */
static int build_model(const struct engine *e, const struct host *old, const struct host *fresh,
		       const struct host_gone *gone, const uint32_t *add_pfs, size_t n_add,
		       struct host **ret)
{
	struct host *m = calloc(1, sizeof(*m));
	size_t n_pfs = e->hdr->n_pfs + n_add;

	if (!m)
		return -ENOMEM;
	m->pfs = calloc(n_pfs ? n_pfs : 1, sizeof(*m->pfs));
	m->vfs = calloc(fresh->n_vfs ? fresh->n_vfs : 1, sizeof(*m->vfs));
	m->groups = calloc(fresh->n_groups ? fresh->n_groups : 1, sizeof(*m->groups));
	if (!m->pfs || !m->vfs || !m->groups) {
		host_free(m);
		return -ENOMEM;
	}
	m->n_pfs = n_pfs;
	memcpy(m->groups, fresh->groups, fresh->n_groups * sizeof(*m->groups));
	m->n_groups = fresh->n_groups;
	for (size_t p = 0; p < n_pfs; p++) {
		const struct vfpool_shm_pf *spf = p < e->hdr->n_pfs ? &state_pfs(e->hdr)[p] : NULL;
		int fp = spf ? fresh_pf_index(fresh, gone, spf->pci_addr)
			     : (int)add_pfs[p - e->hdr->n_pfs];
		uint32_t total = spf ? spf->total_vfs : fresh->pfs[fp].total_vfs;

		if (fp < 0) {
			/* gone: kept so that indices stay the segment's */
			if (p < old->n_pfs)
				m->pfs[p] = old->pfs[p];
			copy_str(m->pfs[p].pci_addr, sizeof(m->pfs[p].pci_addr), spf->pci_addr);
			m->pfs[p].total_vfs = spf->total_vfs;
			m->pfs[p].num_vfs = 0;
			continue;
		}
		m->pfs[p] = fresh->pfs[fp];
		/* the segment has exactly the slots it was built with */
		m->pfs[p].total_vfs = total;
		for (size_t i = 0; i < fresh->n_vfs; i++) {
			struct host_vf *vf;

			if (fresh->vfs[i].pf != (uint32_t)fp || fresh->vfs[i].vf_index >= total ||
			    is_gone(gone, fresh->vfs[i].pci_addr))
				continue;
			vf = &m->vfs[m->n_vfs++];
			*vf = fresh->vfs[i];
			vf->pf = (uint32_t)p;
			if (p < e->pool.n_pfs && pool_is_leased(&e->pool.pfs[p], vf->vf_index))
				vf->bound_other = false;
		}
	}
	*ret = m;
	return 0;
}

static bool set_bit(struct pool_pf *pf, uint32_t slot, enum vfpool_block_reason r, bool on)
{
	return pool_set_blocked(pf, slot, r, on) != (int)on;
}

/* The reason text of a present, unleased slot, from the bits this file owns. Other owners'
 * reasons (host busy, dirty) are left alone when none of ours applies. */
static void set_reason(struct vfpool_shm_vf *rec, const struct pool_pf *pf, uint32_t slot,
		       const struct host_vf *fv, const struct host *fresh, bool busy)
{
	const struct host_iommu_group *g;

	if (busy) {
		copy_str(rec->reason, sizeof(rec->reason), REASON_CHANGING);
	} else if (pool_is_blocked(pf, slot, VFPOOL_BLOCK_BOUND_OTHER)) {
		snprintf(rec->reason, sizeof(rec->reason), "bound to %s without a lease", fv->driver);
	} else if (pool_is_blocked(pf, slot, VFPOOL_BLOCK_IOMMU_SHARED)) {
		g = host_find_group(fresh, fv->iommu_group);
		snprintf(rec->reason, sizeof(rec->reason), "IOMMU group %d shared with %s",
			 fv->iommu_group, g && g->other_dev[0] ? g->other_dev : "another device");
	} else if (!pool_is_blocked(pf, slot, VFPOOL_BLOCK_HOST_BUSY) &&
		   !pool_is_blocked(pf, slot, VFPOOL_BLOCK_DIRTY)) {
		rec->reason[0] = '\0';
	}
}

/* One slot; returns whether its record's PCI address changed (the index needs rebuilding). */
static bool apply_slot(struct engine *e, uint32_t p, uint32_t s, const struct host_vf *fv,
		       const struct host *fresh, bool busy, struct host_apply_stats *st,
		       uint32_t *lost, uint32_t *n_lost)
{
	struct pool_pf *pf = &e->pool.pfs[p];
	uint32_t slot = state_pfs(e->hdr)[p].vf_first + s;
	struct vfpool_shm_vf *rec = &state_vfs(e->hdr)[slot];
	bool was_absent = pool_is_blocked(pf, s, VFPOOL_BLOCK_ABSENT);
	bool leased = pool_is_leased(pf, s);
	bool pci_changed = false, changed = false;
	const struct host_iommu_group *g;

	if (!fv) {
		if (was_absent && !busy)
			return false;
		set_bit(pf, s, VFPOOL_BLOCK_ABSENT, true);
		set_bit(pf, s, VFPOOL_BLOCK_BOUND_OTHER, false);
		set_bit(pf, s, VFPOOL_BLOCK_IOMMU_SHARED, false);
		if (was_absent)
			return false;
		st->vanished++;
		if (leased) {
			/* the VM lost its device: keep the lease visible until it is released */
			copy_str(rec->reason, sizeof(rec->reason), REASON_VANISHED);
			lost[(*n_lost)++] = slot;
		} else {
			rec->netdev[0] = '\0';
			rec->ifindex = 0;
			rec->reason[0] = '\0';
		}
		return false;
	}
	if (strcmp(rec->pci_addr, fv->pci_addr) != 0) {
		copy_str(rec->pci_addr, sizeof(rec->pci_addr), fv->pci_addr);
		pci_changed = true;
	}
	if (strcmp(rec->netdev, fv->netdev) != 0 || rec->ifindex != fv->ifindex) {
		copy_str(rec->netdev, sizeof(rec->netdev), fv->netdev);
		rec->ifindex = fv->ifindex;
		changed = true;
	}
	rec->iommu_group = fv->iommu_group;
	rec->numa_node = fv->numa_node;
	g = fv->iommu_group >= 0 ? host_find_group(fresh, fv->iommu_group) : NULL;
	changed |= set_bit(pf, s, VFPOOL_BLOCK_IOMMU_SHARED, g && g->n_devices > 1);
	changed |= set_bit(pf, s, VFPOOL_BLOCK_BOUND_OTHER, fv->bound_other && !leased);
	/* a VF of a PF being reconfigured is about to vanish: nobody may take it meanwhile */
	set_bit(pf, s, VFPOOL_BLOCK_ABSENT, busy);
	if (was_absent && !busy)
		st->appeared++;
	else if (changed)
		st->changed++;
	if (!leased)
		set_reason(rec, pf, s, fv, fresh, busy);
	return pci_changed;
}

/* The segment's IOMMU group table, from the model (PFs that came later bring groups). */
static void publish_groups(struct vfpool_state_hdr *hdr, const struct host *m)
{
	uint32_t n = m->n_groups < hdr->iommu_capacity ? (uint32_t)m->n_groups : hdr->iommu_capacity;

	for (uint32_t i = 0; i < n; i++) {
		struct vfpool_shm_iommu_group *sg = &state_groups(hdr)[i];

		memset(sg, 0, sizeof(*sg));
		sg->group = m->groups[i].group;
		sg->n_devices = m->groups[i].n_devices;
		copy_str(sg->other_dev, sizeof(sg->other_dev), m->groups[i].other_dev);
	}
	hdr->n_iommu_groups = n;
}

static void log_lost(const struct engine *e, const uint32_t *lost, uint32_t n_lost)
{
	for (uint32_t i = 0; i < n_lost; i++) {
		const struct vfpool_shm_vf *rec = &state_vfs(e->hdr)[lost[i]];
		const struct vfpool_shm_pf *pf = &state_pfs(e->hdr)[rec->pf_index];

		log_warn("lease_lost", "vm=%s vnic=%s pci=%s pf=%s reason=\"%s\"", rec->vm_id,
			 rec->vnic_id, rec->pci_addr, pf->netdev[0] ? pf->netdev : pf->pci_addr,
			 REASON_VANISHED);
	}
}

int host_apply(struct engine *e, struct host **model, struct host *fresh,
	       const struct host_gone *gone, const bool *pf_busy, struct host_apply_stats *ret_stats)
{
	struct host_apply_stats st = { 0 };
	size_t old_n_pfs = (*model)->n_pfs, n_add;
	uint32_t *add;
	struct host *next = NULL;
	uint32_t *lost, n_lost = 0;
	bool reindex = false;
	int r;

	add = calloc(fresh->n_pfs ? fresh->n_pfs : 1, sizeof(*add));
	if (!add) {
		host_free(fresh);
		return -ENOMEM;
	}
	n_add = plan_new_pfs(e, fresh, gone, add);
	r = build_model(e, *model, fresh, gone, add, n_add, &next);
	if (r) {
		free(add);
		host_free(fresh);
		return r;
	}
	lost = calloc(e->hdr->n_vfs ? e->hdr->n_vfs : 1, sizeof(*lost));
	if (!lost) {
		free(add);
		host_free(fresh);
		host_free(next);
		return -ENOMEM;
	}
	seqlock_write_begin(&e->hdr->seq);
	/* the new PFs join inside the same write as their VFs: readers see both or neither */
	for (size_t i = 0; i < n_add; i++) {
		r = state_seg_append_pf(e->hdr, &e->pool, &fresh->pfs[add[i]]);
		if (r) { /* planned to fit: cannot happen; the model must not name it then */
			next->n_pfs = e->hdr->n_pfs;
			break;
		}
		st.pfs_added++;
		log_info("pf_added", "pci=%s netdev=%s driver=%s total_vfs=%u",
			 fresh->pfs[add[i]].pci_addr, fresh->pfs[add[i]].netdev,
			 fresh->pfs[add[i]].driver, fresh->pfs[add[i]].total_vfs);
	}
	for (uint32_t p = 0; p < e->pool.n_pfs && p < next->n_pfs; p++) {
		struct vfpool_shm_pf *spf = &state_pfs(e->hdr)[p];
		int fp = fresh_pf_index(fresh, gone, spf->pci_addr);
		/* pf_busy has one flag per PF of the model before this discovery */
		bool busy = pf_busy && p < old_n_pfs && pf_busy[p];
		bool was_gone = spf->flags & VFPOOL_PF_F_GONE;

		for (uint32_t s = 0; s < spf->total_vfs; s++)
			reindex |= apply_slot(e, p, s, fresh_vf(fresh, gone, fp, s), fresh, busy, &st,
					      lost, &n_lost);
		spf->num_vfs = fp < 0 ? 0 : fresh->pfs[fp].num_vfs;
		if (fp >= 0) {
			copy_str(spf->netdev, sizeof(spf->netdev), fresh->pfs[fp].netdev);
			copy_str(spf->driver, sizeof(spf->driver), fresh->pfs[fp].driver);
			spf->flags &= ~VFPOOL_PF_F_GONE;
		} else {
			spf->flags |= VFPOOL_PF_F_GONE;
		}
		if (was_gone != (fp < 0))
			log_info(fp < 0 ? "pf_gone" : "pf_back", "pci=%s netdev=%s", spf->pci_addr,
				 spf->netdev);
	}
	publish_groups(e->hdr, next);
	seqlock_write_end(&e->hdr->seq);
	free(add);
	st.leases_lost = n_lost;
	/* relaxed: a counter for ops tools; the records above are published by the seqlock */
	atomic_fetch_add_explicit(&e->hdr->leases_lost, n_lost, memory_order_relaxed);
	log_lost(e, lost, n_lost);
	free(lost);
	if (reindex)
		engine_reindex_pci(e);
	host_free(*model);
	*model = next;
	host_free(fresh);
	if (ret_stats)
		*ret_stats = st;
	return 0;
}
