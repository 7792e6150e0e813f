/* SPDX-License-Identifier: MIT */
/*
 * Sized structs (see "Structs passed by pointer" in vfpool.h): a caller's struct is copied
 * into the library's own layout once, and an output is copied out to the caller's, each by
 * the size the caller was built with. The rules are the kernel's copy_struct_from_user():
 * an older (shorter) struct reads as zeros past its end; a newer (longer) one is accepted
 * only when every byte past what this library knows is zero.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "client/libvfpool/internal.h"

/* Past this a size is garbage, not a newer struct (the kernel caps at a page as well). */
#define OPTS_MAX_SIZE 4096u

static bool zero_bytes(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int opts_size_ok(size_t sz, size_t min_size)
{
	if (sz < min_size)
		return -EINVAL;
	return sz > OPTS_MAX_SIZE ? -E2BIG : 0;
}

int opts_in(void *dst, size_t dst_size, const void *src, size_t min_size)
{
	size_t sz;
	int r;

	memcpy(&sz, src, sizeof(sz));
	r = opts_size_ok(sz, min_size);
	if (r)
		return r;
	if (sz > dst_size && !zero_bytes((const unsigned char *)src + dst_size, sz - dst_size)) {
		vfpool_log(VFPOOL_LOG_ERR, "a field past byte %zu of a %zu-byte struct is set: "
			   "this libvfpool does not know it", dst_size, sz);
		return -E2BIG;
	}
	memset(dst, 0, dst_size);
	memcpy(dst, src, sz < dst_size ? sz : dst_size);
	return 0;
}

int opts_out(void *dst, const void *src, size_t src_size, size_t min_size)
{
	size_t sz;
	int r;

	memcpy(&sz, dst, sizeof(sz));
	r = opts_size_ok(sz, min_size);
	if (r)
		return r;
	opts_out_sized(dst, sz, src, src_size);
	return 0;
}

void opts_out_sized(void *dst, size_t sz, const void *src, size_t src_size)
{
	size_t n = sz < src_size ? sz : src_size;

	/* sz stays the caller's: everything after it is ours, zeros past what we know */
	memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
	       n - sizeof(size_t));
	if (sz > src_size)
		memset((char *)dst + src_size, 0, sz - src_size);
	memcpy(dst, &sz, sizeof(sz));
}

/* No trailing padding in any sized struct: a field appended there would fit inside the
 * old size, and a library built before it would read past it without noticing. */
#define NO_TAIL_PADDING(type, last)                                                   \
	_Static_assert(sizeof(struct type) == offsetofend(struct type, last),        \
		       #type " has trailing padding: fill it with a reserved field"); \
	_Static_assert(offsetof(struct type, sz) == 0, #type ": sz first")
NO_TAIL_PADDING(vfpool_opts, reserved);
NO_TAIL_PADDING(vfpool_alloc_req, reserved);
NO_TAIL_PADDING(vfpool_vnic_req, flags);
NO_TAIL_PADDING(vfpool_lease, vfio_group);
NO_TAIL_PADDING(vfpool_completion, lease);
NO_TAIL_PADDING(vfpool_pf_info, flags);
NO_TAIL_PADDING(vfpool_vf_info, reserved3);
NO_TAIL_PADDING(vfpool_daemon_info, probe_reason);
NO_TAIL_PADDING(vfpool_request_stats, latency);
NO_TAIL_PADDING(vfpool_vf_config, mtu);
NO_TAIL_PADDING(vfpool_network_info, pf_allowed);
NO_TAIL_PADDING(vfpool_liveness, why);
