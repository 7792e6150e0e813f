/* SPDX-License-Identifier: MIT */
/* Giving back, at start, the leases the journal says exist. */
#include <errno.h>
#include <string.h>

#include "core/model/engine.h"
#include "core/model/vm_quota.h"
#include "shm/seqlock.h"
#include "shm/state.h"

int engine_restore_lease(struct engine *e, const struct engine_lease *l)
{
	const char *vm = l->vm, *vnic = l->vnic, *network = l->network;
	uint32_t slot = l->slot;
	uint64_t generation = l->generation;
	struct vfpool_shm_vf *vf;
	uint32_t pf_slot;
	int r;

	if (slot >= e->hdr->n_vfs)
		return -ENODEV;
	vf = &state_vfs(e->hdr)[slot];
	/* the slot must still be that VF: a PF may have been replaced or renumbered */
	if (strcmp(vf->pci_addr, l->pci) != 0)
		return -ENODEV;
	if (lease_index_find(e->leases, vm, vnic) >= 0)
		return -EEXIST;
	pf_slot = slot - state_pfs(e->hdr)[vf->pf_index].vf_first;
	seqlock_write_begin(&e->hdr->seq);
	r = pool_claim_vf_at(&e->pool.pfs[vf->pf_index], pf_slot, NULL);
	if (r == 0) {
		vf->state = VFPOOL_VF_LEASED;
		vf->lease_gen = generation;
		vf->lease_flags = l->flags;
		memset(vf->vm_id, 0, sizeof(vf->vm_id));
		memset(vf->vnic_id, 0, sizeof(vf->vnic_id));
		memset(vf->network, 0, sizeof(vf->network));
		memcpy(vf->vm_id, vm, strnlen(vm, sizeof(vf->vm_id) - 1));
		memcpy(vf->vnic_id, vnic, strnlen(vnic, sizeof(vf->vnic_id) - 1));
		memcpy(vf->network, network, strnlen(network, sizeof(vf->network) - 1));
		memcpy(vf->mac, l->mac, sizeof(vf->mac));
		/* the profile it was made through: a profile in use stays undeletable */
		memset(e->slot_profile[slot], 0, sizeof(e->slot_profile[slot]));
		memcpy(e->slot_profile[slot], l->profile,
		       strnlen(l->profile, sizeof(e->slot_profile[slot]) - 1));
	}
	seqlock_write_end(&e->hdr->seq);
	if (r == -EPERM)
		return -ENODEV; /* absent (or otherwise blocked): the VF is not there to give */
	if (r)
		return r;
	r = lease_index_insert(e->leases, vm, vnic, slot, l->owner_uid);
	if (r) {
		seqlock_write_begin(&e->hdr->seq);
		pool_release_vf(&e->pool.pfs[vf->pf_index], pf_slot);
		vf->state = VFPOOL_VF_FREE;
		memset(e->slot_profile[slot], 0, sizeof(e->slot_profile[slot]));
		seqlock_write_end(&e->hdr->seq);
		return r;
	}
	vm_quota_add(e->quota, vm, 1);
	if (generation >= e->next_generation)
		e->next_generation = generation + 1;
	return 0;
}
