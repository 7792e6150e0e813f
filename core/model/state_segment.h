/* SPDX-License-Identifier: MIT */
/* The daemon's side of the state segment: creating <run-dir>/state from the host model,
 * and the pool views over its bitmap blocks. */
#ifndef VFPOOL_CORE_STATE_SEGMENT_H
#define VFPOOL_CORE_STATE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/model/host.h"
#include "core/model/pool.h"
#include "shm/state.h"

struct state_seg {
	struct vfpool_state_hdr *hdr;
	size_t size;
	int ro_fd; /* O_RDONLY, handed to clients */
};

/* Builds the segment on memory mem (size state_seg_size(host) bytes, zeroed): header,
 * records, formatted bitmap blocks with ABSENT / IOMMU_SHARED / BOUND_OTHER set from the
 * host. Used directly on malloc'd memory by tests. */
int state_seg_size(const struct host *host, size_t *ret_size);
int state_seg_format(void *mem, size_t size, const struct host *host);

/* Room reserved for PFs that come after start (hot-plug, a driver loaded late): the
 * segment can hold up to pfs PFs (at most POOL_MAX_PFS) with vfs VF slots between them,
 * or the host's own counts when larger. 0: no room beyond the host. */
struct state_room {
	uint32_t pfs, vfs;
};
#define STATE_ROOM_DEFAULT_PFS 32u
#define STATE_ROOM_DEFAULT_VFS 4096u

int state_seg_size_room(const struct host *host, const struct state_room *room,
			size_t *ret_size);
int state_seg_format_room(void *mem, size_t size, const struct host *host,
			  const struct state_room *room);

/* Whether pfs more PFs with slots VF slots and words bitmap words between them fit. */
bool state_seg_has_room(const struct vfpool_state_hdr *hdr, uint32_t pfs, uint64_t slots,
			uint64_t words);
/* Appends a PF to the segment (record, VF records, bitmap block with every slot absent)
 * and its view to pool (whose pfs array has room for pf_capacity). The caller holds the
 * seqlock: readers see the PF with its records. -ENOSPC when it does not fit. */
int state_seg_append_pf(struct vfpool_state_hdr *hdr, struct pool *pool,
			const struct host_pf *hp);

/* Publishes a formatted segment as "state" in the verified run dir dir_fd (a temp file
 * opened there without following links, its blocks reserved before it is mapped, then
 * renamed): mode 0640 with group group, or 0600 when group is (gid_t)-1, owned by the
 * daemon's user. Records this process as its writer (shm/liveness.h). On failure why says
 * what failed and why ("reserving 53248 bytes: No space left on device"). */
int state_seg_create(int dir_fd, gid_t group, const struct host *host,
		     const struct state_room *room, struct state_seg **ret_seg, char *why,
		     size_t why_len);
/* Marks the segment stale and exited (readers stop believing it), unmaps it. */
void state_seg_destroy(struct state_seg *seg);

/* Pool views over a formatted segment; pool->pfs is malloc'd (free with pool_views_free). */
int state_seg_pool(struct vfpool_state_hdr *hdr, struct pool *ret_pool);
void pool_views_free(struct pool *pool);

#endif
