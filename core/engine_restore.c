/* SPDX-License-Identifier: MIT */
/* Giving back, at start, the leases the journal says exist. */
#include <errno.h>
#include <string.h>

#include "core/engine.h"
#include "core/vm_quota.h"
#include "shm/seqlock.h"
#include "shm/state.h"

int engine_restore_lease(struct engine *e, uint32_t slot, const char *pci, const char *vm,
			 const char *vnic, const char *network, const uint8_t mac[6],
			 uint64_t generation, uint16_t lease_flags)
{
	struct vfpool_shm_vf *vf;
	uint32_t pf_slot;
	int r;

	if (slot >= e->hdr->n_vfs)
		return -ENODEV;
	vf = &state_vfs(e->hdr)[slot];
	/* the slot must still be that VF: a PF may have been replaced or renumbered */
	if (strcmp(vf->pci_addr, pci) != 0)
		return -ENODEV;
	if (lease_index_find(e->leases, vm, vnic) >= 0)
		return -EEXIST;
	pf_slot = slot - state_pfs(e->hdr)[vf->pf_index].vf_first;
	seqlock_write_begin(&e->hdr->seq);
	r = pool_claim_vf_at(&e->pool.pfs[vf->pf_index], pf_slot, NULL);
	if (r == 0) {
		vf->state = VFPOOL_VF_LEASED;
		vf->lease_gen = generation;
		vf->lease_flags = lease_flags;
		memset(vf->vm_id, 0, sizeof(vf->vm_id));
		memset(vf->vnic_id, 0, sizeof(vf->vnic_id));
		memset(vf->network, 0, sizeof(vf->network));
		memcpy(vf->vm_id, vm, strnlen(vm, sizeof(vf->vm_id) - 1));
		memcpy(vf->vnic_id, vnic, strnlen(vnic, sizeof(vf->vnic_id) - 1));
		memcpy(vf->network, network, strnlen(network, sizeof(vf->network) - 1));
		memcpy(vf->mac, mac, sizeof(vf->mac));
	}
	seqlock_write_end(&e->hdr->seq);
	if (r == -EPERM)
		return -ENODEV; /* absent (or otherwise blocked): the VF is not there to give */
	if (r)
		return r;
	r = lease_index_insert(e->leases, vm, vnic, slot);
	if (r) {
		seqlock_write_begin(&e->hdr->seq);
		pool_release_vf(&e->pool.pfs[vf->pf_index], pf_slot);
		vf->state = VFPOOL_VF_FREE;
		seqlock_write_end(&e->hdr->seq);
		return r;
	}
	vm_quota_add(e->quota, vm, 1);
	if (generation >= e->next_generation)
		e->next_generation = generation + 1;
	return 0;
}
