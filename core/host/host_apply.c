/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/host/host_apply.h"
#include "core/log.h"
#include "shm/seqlock.h"
#include "shm/state.h"

#define REASON_VANISHED "VF vanished"
#define REASON_CHANGING "numvfs change in progress"

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

/* The next model: the segment's PFs in its order, updated from fresh, and fresh's VFs of
 * those PFs. Leased VFs bound to a passthrough driver are the lessee's, not another party's. */
static int build_model(const struct engine *e, const struct host *old, const struct host *fresh,
		       const struct host_gone *gone, struct host **ret)
{
	struct host *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->pfs = calloc(old->n_pfs ? old->n_pfs : 1, sizeof(*m->pfs));
	m->vfs = calloc(fresh->n_vfs ? fresh->n_vfs : 1, sizeof(*m->vfs));
	m->groups = calloc(fresh->n_groups ? fresh->n_groups : 1, sizeof(*m->groups));
	if (!m->pfs || !m->vfs || !m->groups) {
		host_free(m);
		return -ENOMEM;
	}
	m->n_pfs = old->n_pfs;
	memcpy(m->groups, fresh->groups, fresh->n_groups * sizeof(*m->groups));
	m->n_groups = fresh->n_groups;
	for (size_t p = 0; p < old->n_pfs; p++) {
		int fp = fresh_pf_index(fresh, gone, old->pfs[p].pci_addr);

		m->pfs[p] = old->pfs[p];
		if (fp < 0) {
			m->pfs[p].num_vfs = 0; /* gone: kept so that indices stay the segment's */
			continue;
		}
		m->pfs[p] = fresh->pfs[fp];
		/* the segment has exactly the slots it was built with */
		m->pfs[p].total_vfs = old->pfs[p].total_vfs;
		for (size_t i = 0; i < fresh->n_vfs; i++) {
			struct host_vf *vf;

			if (fresh->vfs[i].pf != (uint32_t)fp ||
			    fresh->vfs[i].vf_index >= old->pfs[p].total_vfs ||
			    is_gone(gone, fresh->vfs[i].pci_addr))
				continue;
			vf = &m->vfs[m->n_vfs++];
			*vf = fresh->vfs[i];
			vf->pf = (uint32_t)p;
			if (pool_is_leased(&e->pool.pfs[p], vf->vf_index))
				vf->bound_other = false;
		}
	}
	*ret = m;
	return 0;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
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
	struct host *next = NULL;
	uint32_t *lost, n_lost = 0;
	bool reindex = false;
	int r;

	r = build_model(e, *model, fresh, gone, &next);
	if (r) {
		host_free(fresh);
		return r;
	}
	lost = calloc(e->hdr->n_vfs ? e->hdr->n_vfs : 1, sizeof(*lost));
	if (!lost) {
		host_free(fresh);
		host_free(next);
		return -ENOMEM;
	}
	seqlock_write_begin(&e->hdr->seq);
	for (uint32_t p = 0; p < e->pool.n_pfs && p < next->n_pfs; p++) {
		struct vfpool_shm_pf *spf = &state_pfs(e->hdr)[p];
		int fp = fresh_pf_index(fresh, gone, spf->pci_addr);
		bool busy = pf_busy && pf_busy[p];

		for (uint32_t s = 0; s < spf->total_vfs; s++)
			reindex |= apply_slot(e, p, s, fresh_vf(fresh, gone, fp, s), fresh, busy, &st,
					      lost, &n_lost);
		spf->num_vfs = fp < 0 ? 0 : fresh->pfs[fp].num_vfs;
		if (fp >= 0) {
			copy_str(spf->netdev, sizeof(spf->netdev), fresh->pfs[fp].netdev);
			copy_str(spf->driver, sizeof(spf->driver), fresh->pfs[fp].driver);
		}
	}
	seqlock_write_end(&e->hdr->seq);
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
