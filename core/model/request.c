/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "core/model/lease_key.h"
#include "core/model/request.h"

#define MAX_NUMA_NODE 1023

/* Identifiers: what VM managers use for names and UUIDs, nothing that could confuse a
 * log line or a path. A table, not isalnum(): this runs for every byte of every request,
 * and the locale must not change what a request means. NUL maps to 2, ending the scan. */
#define ID  1
#define END 2
static const uint8_t ident_class[256] = {
	[0] = END,
	['-'] = ID, ['_'] = ID, ['.'] = ID, [':'] = ID, ['@'] = ID,
	['0'] = ID, ['1'] = ID, ['2'] = ID, ['3'] = ID, ['4'] = ID, ['5'] = ID, ['6'] = ID,
	['7'] = ID, ['8'] = ID, ['9'] = ID,
	['A'] = ID, ['B'] = ID, ['C'] = ID, ['D'] = ID, ['E'] = ID, ['F'] = ID, ['G'] = ID,
	['H'] = ID, ['I'] = ID, ['J'] = ID, ['K'] = ID, ['L'] = ID, ['M'] = ID, ['N'] = ID,
	['O'] = ID, ['P'] = ID, ['Q'] = ID, ['R'] = ID, ['S'] = ID, ['T'] = ID, ['U'] = ID,
	['V'] = ID, ['W'] = ID, ['X'] = ID, ['Y'] = ID, ['Z'] = ID,
	['a'] = ID, ['b'] = ID, ['c'] = ID, ['d'] = ID, ['e'] = ID, ['f'] = ID, ['g'] = ID,
	['h'] = ID, ['i'] = ID, ['j'] = ID, ['k'] = ID, ['l'] = ID, ['m'] = ID, ['n'] = ID,
	['o'] = ID, ['p'] = ID, ['q'] = ID, ['r'] = ID, ['s'] = ID, ['t'] = ID, ['u'] = ID,
	['v'] = ID, ['w'] = ID, ['x'] = ID, ['y'] = ID, ['z'] = ID,
};

/* One pass over an identifier field: the identifier's length if the field holds a
 * NUL-terminated one (empty allowed when !required), else a negative errno. The bytes are
 * copied to dst (zeroed by the caller: every byte after the NUL stays zero) and, with h,
 * hashed into *h as lease_key_fnv does, in the same pass: the serve path reads each byte of
 * an identifier once, and its length travels with the request from here on. */
static inline int scan_ident(const char *field, size_t size, bool required, char *dst,
			     uint64_t *h)
{
	uint64_t hh = h ? *h : 0;
	size_t i = 0;

	for (; i < size; i++) {
		uint8_t c = (uint8_t)field[i];
		uint8_t cls = ident_class[c];

		if (cls != ID) {
			if (cls == END)
				break;
			return -EINVAL;
		}
		dst[i] = (char)c;
		if (h)
			hh = (hh ^ c) * LEASE_KEY_FNV_PRIME;
	}
	if (i == size)
		return -ENAMETOOLONG;
	if (i == 0)
		return required ? -ENODATA : 0;
	if (h)
		*h = hh;
	return (int)i;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t acc = 0;
	size_t i = 0;

	/* OR everything, branch once: reserved bytes are almost always zero */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

bool pci_addr_valid(const char *s)
{
	/* dddd:bb:ss.f */
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'x') {
			if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
				return false;
		} else if (s[i] != shape[i]) {
			return false;
		}
	}
	/* slot 00-1f, function 0-7 */
	return (s[8] == '0' || s[8] == '1') && s[11] >= '0' && s[11] <= '7';
}

#define FIELD(name, req, ret_len, h) \
	do { \
		int e_ = scan_ident(copy->name, sizeof(copy->name), req, r->name, h); \
		if (e_ == -ENAMETOOLONG) { *ret_why = #name " not NUL-terminated"; return -EINVAL; } \
		if (e_ == -ENODATA) { *ret_why = #name " missing"; return -EINVAL; } \
		if (e_ < 0) { *ret_why = #name " has characters outside [A-Za-z0-9._:@-]"; return -EINVAL; } \
		ret_len = e_; \
	} while (0)

int request_decode(const struct vfpool_sqe *copy, struct request *ret_req, const char **ret_why)
{
	/* decoded in place: on an error only user_data is meant (request.h); no second copy
	 * of the request on success */
	struct request *r = ret_req;
	uint64_t hash = LEASE_KEY_FNV_OFFSET;
	int vm_len, vnic_len, len;

	memset(r, 0, sizeof(*r));
	r->user_data = copy->user_data;
	r->uid = REQUEST_UID_NONE;
	if (copy->opcode >= VFPOOL_OP_NR) {
		*ret_why = "unknown opcode";
		return -EOPNOTSUPP;
	}
	r->op = (enum vfpool_opcode)copy->opcode;
	if (copy->flags & ~VFPOOL_REQ_F_ALL) {
		*ret_why = "unknown flags";
		return -EINVAL;
	}
	r->flags = copy->flags;
	if ((copy->flags & VFPOOL_REQ_F_EARLY) && r->op != VFPOOL_OP_ALLOC) {
		*ret_why = "early completion on a request other than alloc";
		return -EINVAL;
	}
	if ((copy->flags & VFPOOL_REQ_F_VFIO) && r->op != VFPOOL_OP_ALLOC) {
		*ret_why = "vfio flag on a request other than alloc";
		return -EINVAL;
	}
	if ((copy->flags & VFPOOL_REQ_F_NUMA_REQUIRED) &&
	    (r->op != VFPOOL_OP_ALLOC || copy->numa_node < 0)) {
		*ret_why = "NUMA node required without an alloc naming a node";
		return -EINVAL;
	}
	if (copy->flags & VFPOOL_REQ_F_BIND_PID) {
		if (r->op != VFPOOL_OP_ALLOC) {
			*ret_why = "bind flag on a request other than alloc";
			return -EINVAL;
		}
		if (copy->bind_pid < 0) {
			*ret_why = "bind_pid negative";
			return -EINVAL;
		}
		/* 0 stays 0 here: the caller knows the connection's peer and resolves it */
		r->bind_pid = copy->bind_pid;
	} else if (copy->bind_pid) {
		*ret_why = "bind_pid set without the bind flag";
		return -EINVAL;
	}
	if (copy->reserved0 || !all_zero(copy->reserved2, sizeof(copy->reserved2)) ||
	    !all_zero(copy->reserved3, sizeof(copy->reserved3))) {
		*ret_why = "reserved field not zero";
		return -EINVAL;
	}
	if (r->op != VFPOOL_OP_ALLOC && !all_zero(copy->profile, sizeof(copy->profile))) {
		*ret_why = "profile set on a request other than alloc";
		return -EINVAL;
	}
	if (r->op == VFPOOL_OP_NOP) {
		if (r->flags & VFPOOL_REQ_F_LINK) {
			*ret_why = "link flag on a nop";
			return -EINVAL;
		}
		return 0;
	}
	/* hashed once, as lease_key_make does: the lease index and the per-VM quota take the
	 * key as it is */
	FIELD(vm_id, true, vm_len, &hash);
	r->vm_hash = hash;
	hash = (hash ^ 0xff) * LEASE_KEY_FNV_PRIME;
	FIELD(vnic_id, true, vnic_len, &hash);
	r->key_hash = hash ? hash : 1;
	_Static_assert(VFPOOL_VM_ID_MAX <= 256 && VFPOOL_VNIC_ID_MAX <= 256, "lengths fit a byte");
	r->vm_id_len = (uint8_t)vm_len;
	r->vnic_id_len = (uint8_t)vnic_len;
	r->keyed = true;
	if (r->op == VFPOOL_OP_RELEASE) {
		if (r->flags & (VFPOOL_REQ_F_MAC | VFPOOL_REQ_F_PIN | VFPOOL_REQ_F_PROFILE |
			       VFPOOL_REQ_F_LINK)) {
			*ret_why = "release takes no MAC, pinned VF, profile or link";
			return -EINVAL;
		}
		if (r->flags & VFPOOL_REQ_F_GEN) {
			if (copy->generation == 0) {
				*ret_why = "generation 0 is never a lease";
				return -EINVAL;
			}
			r->generation = copy->generation;
		}
		return 0;
	}
	/* VFPOOL_OP_ALLOC: with a profile, the network comes from it (if given, it must match) */
	FIELD(network, !(r->flags & VFPOOL_REQ_F_PROFILE), len, NULL);
	if (r->flags & VFPOOL_REQ_F_PROFILE) {
		FIELD(profile, true, len, NULL);
	} else if (!all_zero(copy->profile, sizeof(copy->profile))) {
		*ret_why = "profile set without the profile flag";
		return -EINVAL;
	}
	if (r->flags & VFPOOL_REQ_F_GEN) {
		*ret_why = "alloc takes no generation";
		return -EINVAL;
	}
	if (copy->numa_node < -1 || copy->numa_node > MAX_NUMA_NODE) {
		*ret_why = "numa_node out of range";
		return -EINVAL;
	}
	(void)len; /* the network's and the profile's lengths: only checked */
	r->numa_node = copy->numa_node;
	if (r->flags & VFPOOL_REQ_F_PIN) {
		if (!memchr(copy->pin_pci, '\0', sizeof(copy->pin_pci))) {
			*ret_why = "pin_pci not NUL-terminated";
			return -EINVAL;
		}
		if (!pci_addr_valid(copy->pin_pci)) {
			*ret_why = "pin_pci is not a PCI address (dddd:bb:ss.f)";
			return -EINVAL;
		}
		/* pci_addr_valid: exactly "dddd:bb:ss.f" */
		memcpy(r->pin_pci, copy->pin_pci, sizeof("dddd:bb:ss.f") - 1);
	} else if (!all_zero(copy->pin_pci, sizeof(copy->pin_pci))) {
		*ret_why = "pin_pci set without the pin flag";
		return -EINVAL;
	}
	if (r->flags & VFPOOL_REQ_F_MAC) {
		if (all_zero(copy->mac, sizeof(copy->mac)) || (copy->mac[0] & 1)) {
			*ret_why = "mac is zero or multicast";
			return -EINVAL;
		}
		memcpy(r->mac, copy->mac, sizeof(r->mac));
	}
		return 0;
}
