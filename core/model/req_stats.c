/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "core/model/req_stats.h"

enum vfpool_err_kind req_err_kind(unsigned op, int res)
{
	switch (res) {
	case -ENOSPC: return VFPOOL_ERR_NO_VF;
	case -EPERM: return VFPOOL_ERR_BLOCKED;
	case -EBUSY: return VFPOOL_ERR_BUSY;
	case -ESTALE: return VFPOOL_ERR_STALE;
	case -EEXIST: return VFPOOL_ERR_CONFLICT;
	case -EDQUOT: return VFPOOL_ERR_QUOTA;
	case -ENOENT:
		/* an alloc's ENOENT names a profile or network the policy lacks: not a
		 * missing lease */
		return op == VFPOOL_OP_RELEASE ? VFPOOL_ERR_NO_LEASE : VFPOOL_ERR_OTHER;
	default: return VFPOOL_ERR_OTHER;
	}
}

void req_stats_errors(struct vfpool_state_hdr *hdr, enum vfpool_err_kind kind, uint64_t n)
{
	if ((unsigned)kind >= VFPOOL_ERR_NR)
		kind = VFPOOL_ERR_OTHER;
	/* relaxed: statistics for ops tools, no ordering with anything (readers copy them
	 * under the seqlock and tolerate a count one request ahead of another) */
	atomic_fetch_add_explicit(&hdr->errors, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&hdr->errors_by_kind[kind], n, memory_order_relaxed);
}

unsigned req_latency_bucket(uint64_t ns)
{
	unsigned bits;

	if (ns < (1u << 7))
		return 0;
	/* ns in [2^(b-1), 2^b) is under 2^b: bucket b - 7 */
	bits = 64u - (unsigned)__builtin_clzll(ns);
	return bits - 7 < VFPOOL_LAT_BUCKETS ? bits - 7 : VFPOOL_LAT_BUCKETS - 1;
}

void req_stats_latency(struct vfpool_state_hdr *hdr, uint64_t ns)
{
	/* relaxed: a statistic, as above */
	atomic_fetch_add_explicit(&hdr->latency_buckets[req_latency_bucket(ns)], 1,
				  memory_order_relaxed);
}
