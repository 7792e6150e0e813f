/* SPDX-License-Identifier: MIT */
/* Leases held per VM, for --max-leases-per-vm: one VM (or a launcher looping on it) cannot
 * take the whole host. Open addressing sized once to the host's VF slots (a VM cannot hold
 * more leases than there are VFs), so no request ever grows daemon memory. Loop-thread only. */
#ifndef VFPOOL_CORE_VM_QUOTA_H
#define VFPOOL_CORE_VM_QUOTA_H

#include <stdint.h>

#include "core/model/lease_key.h"

struct vm_quota;

int vm_quota_new(uint32_t max_vms, struct vm_quota **ret_quota);
void vm_quota_free(struct vm_quota *q);
uint32_t vm_quota_count(const struct vm_quota *q, const char *vm_id);
/* Adds delta (+1 or -1) to vm's count; a VM whose count reaches 0 leaves the table. */
void vm_quota_add(struct vm_quota *q, const char *vm_id, int delta);
/* The same by key (its VM part: vm, vm_len, vm_hash), as the serve path calls them. */
uint32_t vm_quota_count_key(const struct vm_quota *q, const struct lease_key *k);
void vm_quota_add_key(struct vm_quota *q, const struct lease_key *k, int delta);

#endif
