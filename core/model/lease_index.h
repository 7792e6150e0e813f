/* SPDX-License-Identifier: MIT */
/* (VM id, vNIC id) -> VF slot, for release and idempotent re-allocation. Open addressing
 * with linear probing and backward-shift deletion; sized once, never rehashed, because a
 * host cannot hold more leases than VF slots. Daemon-private: only the loop thread uses it. */
#ifndef VFPOOL_CORE_LEASE_INDEX_H
#define VFPOOL_CORE_LEASE_INDEX_H

#include <stdint.h>

#include "core/model/lease_key.h"

#define LEASE_OWNER_UNKNOWN UINT32_MAX /* = JOURNAL_OWNER_UNKNOWN: anyone may change it */

struct lease_index;

int lease_index_new(uint32_t max_leases, struct lease_index **ret_index);
void lease_index_free(struct lease_index *idx);

/* The serve path's calls: one probe, keys hashed by the caller (core/model/lease_key.h).
 * lookup: 0 with the slot and the uid that made the lease, or -ENOENT. */
int lease_index_lookup(const struct lease_index *idx, const struct lease_key *k,
		       uint32_t *ret_slot, uint32_t *ret_owner);
/* -EEXIST if present, -ENOSPC if full, -ENAMETOOLONG past the id fields. */
int lease_index_insert_key(struct lease_index *idx, const struct lease_key *k, uint32_t slot,
			   uint32_t owner_uid);
int lease_index_remove_key(struct lease_index *idx, const struct lease_key *k);

/* The same from NUL-terminated strings (lease_key_of). Returns the slot or -ENOENT. */
int64_t lease_index_find(const struct lease_index *idx, const char *vm_id, const char *vnic_id);
/* The uid that made the lease (LEASE_OWNER_UNKNOWN for one made before owners were kept),
 * or -ENOENT. */
int64_t lease_index_owner(const struct lease_index *idx, const char *vm_id, const char *vnic_id);
/* -EEXIST if present, -ENOSPC if full. */
int lease_index_insert(struct lease_index *idx, const char *vm_id, const char *vnic_id,
		       uint32_t slot, uint32_t owner_uid);
int lease_index_remove(struct lease_index *idx, const char *vm_id, const char *vnic_id);
uint32_t lease_index_count(const struct lease_index *idx);

#endif
