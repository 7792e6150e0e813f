/* SPDX-License-Identifier: MIT */
/*
 * A (VM id, vNIC id) pair as the serve path carries it: lengths known and hashed once, when
 * the request is decoded (core/model/request.c), so the lease index and the per-VM quota
 * compare lengths, hashes and bytes, and never scan a string for its end. Callers holding
 * plain NUL-terminated strings (start-up restore, the journal, tests) use lease_key_of.
 */
#ifndef VFPOOL_CORE_LEASE_KEY_H
#define VFPOOL_CORE_LEASE_KEY_H

#include <stddef.h>
#include <stdint.h>

#define LEASE_KEY_FNV_OFFSET UINT64_C(0xcbf29ce484222325) /* FNV-1a, 64 bits */
#define LEASE_KEY_FNV_PRIME  UINT64_C(0x100000001b3)

struct lease_key {
	const char *vm, *vnic; /* not NUL-terminated as far as the key is concerned */
	uint32_t vm_len, vnic_len;
	uint64_t vm_hash; /* of the VM id alone: the per-VM quota's */
	uint64_t hash;    /* of the pair, never 0: the lease index's */
};

static inline uint64_t lease_key_fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * LEASE_KEY_FNV_PRIME;
	return h;
}

/* The pair's hash continues the VM's over a separator, so ("ab","c") != ("a","bc"). */
static inline struct lease_key lease_key_make(const char *vm, uint32_t vm_len, const char *vnic,
					      uint32_t vnic_len)
{
	struct lease_key k = { .vm = vm, .vnic = vnic, .vm_len = vm_len, .vnic_len = vnic_len };

	k.vm_hash = lease_key_fnv(LEASE_KEY_FNV_OFFSET, vm, vm_len);
	k.hash = lease_key_fnv((k.vm_hash ^ 0xff) * LEASE_KEY_FNV_PRIME, vnic, vnic_len);
	if (!k.hash)
		k.hash = 1;
	return k;
}

/* From NUL-terminated strings within their VFPOOL_*_MAX fields (strnlen: off the serve
 * path only). */
struct lease_key lease_key_of(const char *vm, const char *vnic);

#endif
