/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "core/request.h"

#define MAX_NUMA_NODE 1023

/* Identifiers: what VM managers use for names and UUIDs, nothing that could confuse a
 * log line or a path. */
static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == ':' ||
	       c == '@';
}

/* 0 if the field holds a NUL-terminated identifier (empty allowed when !required). */
static int check_ident(const char *field, size_t size, bool required)
{
	const char *nul = memchr(field, '\0', size);

	if (!nul)
		return -ENAMETOOLONG;
	if (nul == field)
		return required ? -ENODATA : 0;
	for (const char *p = field; p < nul; p++)
		if (!ident_char(*p))
			return -EINVAL;
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
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

#define FIELD(name, req) \
	do { \
		int e_ = check_ident(copy->name, sizeof(copy->name), req); \
		if (e_ == -ENAMETOOLONG) { *ret_why = #name " not NUL-terminated"; return -EINVAL; } \
		if (e_ == -ENODATA) { *ret_why = #name " missing"; return -EINVAL; } \
		if (e_) { *ret_why = #name " has characters outside [A-Za-z0-9._:@-]"; return -EINVAL; } \
		/* up to the NUL only: every byte after it stays zero, so the field's last \
		 * byte is NUL wherever the daemon copies it (readers check just that one) */ \
		memcpy(r.name, copy->name, strlen(copy->name)); \
	} while (0)

int request_decode(const struct vfpool_sqe *copy, struct request *ret_req, const char **ret_why)
{
	struct request r = { .user_data = copy->user_data };

	ret_req->user_data = copy->user_data;
	if (copy->opcode >= VFPOOL_OP_NR) {
		*ret_why = "unknown opcode";
		return -EOPNOTSUPP;
	}
	r.op = (enum vfpool_opcode)copy->opcode;
	if (copy->flags & ~VFPOOL_REQ_F_ALL) {
		*ret_why = "unknown flags";
		return -EINVAL;
	}
	r.flags = copy->flags;
	if (copy->reserved0 || copy->reserved1 || !all_zero(copy->reserved2, sizeof(copy->reserved2)) ||
	    !all_zero(copy->reserved3, sizeof(copy->reserved3))) {
		*ret_why = "reserved field not zero";
		return -EINVAL;
	}
	if (r.op != VFPOOL_OP_ALLOC && !all_zero(copy->profile, sizeof(copy->profile))) {
		*ret_why = "profile set on a request other than alloc";
		return -EINVAL;
	}
	if (r.op == VFPOOL_OP_NOP) {
		if (r.flags & VFPOOL_REQ_F_LINK) {
			*ret_why = "link flag on a nop";
			return -EINVAL;
		}
		*ret_req = r;
		return 0;
	}
	FIELD(vm_id, true);
	FIELD(vnic_id, true);
	if (r.op == VFPOOL_OP_RELEASE) {
		if (r.flags & (VFPOOL_REQ_F_MAC | VFPOOL_REQ_F_PIN | VFPOOL_REQ_F_PROFILE |
			       VFPOOL_REQ_F_LINK)) {
			*ret_why = "release takes no MAC, pinned VF, profile or link";
			return -EINVAL;
		}
		if (r.flags & VFPOOL_REQ_F_GEN) {
			if (copy->generation == 0) {
				*ret_why = "generation 0 is never a lease";
				return -EINVAL;
			}
			r.generation = copy->generation;
		}
		*ret_req = r;
		return 0;
	}
	/* VFPOOL_OP_ALLOC: with a profile, the network comes from it (if given, it must match) */
	FIELD(network, !(r.flags & VFPOOL_REQ_F_PROFILE));
	if (r.flags & VFPOOL_REQ_F_PROFILE) {
		FIELD(profile, true);
	} else if (!all_zero(copy->profile, sizeof(copy->profile))) {
		*ret_why = "profile set without the profile flag";
		return -EINVAL;
	}
	if (r.flags & VFPOOL_REQ_F_GEN) {
		*ret_why = "alloc takes no generation";
		return -EINVAL;
	}
	if (copy->numa_node < -1 || copy->numa_node > MAX_NUMA_NODE) {
		*ret_why = "numa_node out of range";
		return -EINVAL;
	}
	r.numa_node = copy->numa_node;
	if (r.flags & VFPOOL_REQ_F_PIN) {
		if (!memchr(copy->pin_pci, '\0', sizeof(copy->pin_pci))) {
			*ret_why = "pin_pci not NUL-terminated";
			return -EINVAL;
		}
		if (!pci_addr_valid(copy->pin_pci)) {
			*ret_why = "pin_pci is not a PCI address (dddd:bb:ss.f)";
			return -EINVAL;
		}
		memcpy(r.pin_pci, copy->pin_pci, strlen(copy->pin_pci));
	} else if (!all_zero(copy->pin_pci, sizeof(copy->pin_pci))) {
		*ret_why = "pin_pci set without the pin flag";
		return -EINVAL;
	}
	if (r.flags & VFPOOL_REQ_F_MAC) {
		if (all_zero(copy->mac, sizeof(copy->mac)) || (copy->mac[0] & 1)) {
			*ret_why = "mac is zero or multicast";
			return -EINVAL;
		}
		memcpy(r.mac, copy->mac, sizeof(r.mac));
	}
	*ret_req = r;
	return 0;
}
