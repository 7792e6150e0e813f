/* SPDX-License-Identifier: MIT */
/* Geometry and validation of the state segment (see shm/layout.h). */
#ifndef VFPOOL_SHM_STATE_H
#define VFPOOL_SHM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

struct state_geometry {
	uint32_t pf_capacity, vf_capacity, iommu_capacity, bitmap_words, network_capacity;
	uint64_t pf_off, vf_off, bitmap_off, iommu_off, network_off, host_use_off, size;
};

int state_geometry(uint32_t pfs, uint32_t vfs, uint32_t groups, uint32_t bitmap_words,
		   struct state_geometry *ret_geometry);

/* Writes the immutable header fields on zeroed memory of ret->size bytes. */
void state_hdr_init(struct vfpool_state_hdr *hdr, const struct state_geometry *g);

/* Checks a segment of size bytes before anyone trusts an offset in it: magic, version,
 * sizes, and (on a seqlock-consistent copy) every record's references. Returns 0 or
 * -EPROTO with *ret_why set to a static string naming the field. */
int state_validate_header(const void *base, size_t size, const char **ret_why);
int state_validate_records(const void *base, size_t size, const char **ret_why);
/* One VF record of a copy that passed state_validate_records: checked when it is read, so a
 * reader that copies the whole segment pays only for the records it uses. */
int state_validate_vf(const void *base, uint32_t index, const char **ret_why);

static inline struct vfpool_shm_pf *state_pfs(const struct vfpool_state_hdr *h)
{
	return (struct vfpool_shm_pf *)((char *)h + h->pf_off);
}
static inline struct vfpool_shm_vf *state_vfs(const struct vfpool_state_hdr *h)
{
	return (struct vfpool_shm_vf *)((char *)h + h->vf_off);
}
static inline _Atomic uint64_t *state_bitmap(const struct vfpool_state_hdr *h)
{
	return (_Atomic uint64_t *)((char *)h + h->bitmap_off);
}
static inline struct vfpool_shm_iommu_group *state_groups(const struct vfpool_state_hdr *h)
{
	return (struct vfpool_shm_iommu_group *)((char *)h + h->iommu_off);
}
static inline struct vfpool_shm_network *state_networks(const struct vfpool_state_hdr *h)
{
	return (struct vfpool_shm_network *)((char *)h + h->network_off);
}

/* The VF records' host-use words (VFPOOL_HOST_USE_*), parallel to state_vfs(). */
static inline uint32_t *state_host_use(const struct vfpool_state_hdr *h)
{
	return (uint32_t *)((char *)h + h->host_use_off);
}

#endif
