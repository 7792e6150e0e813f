/* SPDX-License-Identifier: MIT */
/* Request decoding: everything a client writes is hostile. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/model/lease_key.h"
#include "core/model/request.h"

/* The valid entries every refusal starts from: one mutation must be the only fault. */
static struct vfpool_sqe good_alloc(void)
{
	struct vfpool_sqe e;

	memset(&e, 0, sizeof(e));
	e.user_data = 42;
	e.opcode = VFPOOL_OP_ALLOC;
	e.numa_node = -1;
	strcpy(e.vm_id, "6f1c2a3e-0000-4000-8000-000000000001");
	strcpy(e.vnic_id, "nic0");
	strcpy(e.network, "red");
	return e;
}

static struct vfpool_sqe good_release(void)
{
	struct vfpool_sqe e = good_alloc();

	e.opcode = VFPOOL_OP_RELEASE;
	memset(e.network, 0, sizeof(e.network));
	return e;
}

static struct vfpool_sqe good_nop(void)
{
	struct vfpool_sqe e;

	memset(&e, 0, sizeof(e));
	e.user_data = 42;
	e.opcode = VFPOOL_OP_NOP;
	return e;
}

Test(request, valid_alloc_decodes_every_field)
{
	struct vfpool_sqe e = good_alloc();
	struct request r;
	const char *why = NULL;

	e.flags = VFPOOL_REQ_F_MAC | VFPOOL_REQ_F_PIN;
	memcpy(e.mac, "\x52\x54\x00\x12\x34\x56", 6);
	strcpy(e.pin_pci, "0001:00:01.3");
	e.numa_node = 1;
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_eq(r.user_data, 42u);
	cr_assert_eq(r.op, VFPOOL_OP_ALLOC);
	cr_assert_str_eq(r.vm_id, e.vm_id);
	cr_assert_str_eq(r.vnic_id, "nic0");
	cr_assert_str_eq(r.network, "red");
	cr_assert_str_eq(r.pin_pci, "0001:00:01.3");
	cr_assert_eq(r.numa_node, 1);
	cr_assert_eq(memcmp(r.mac, e.mac, 6), 0);
}

Test(request, valid_alloc_by_profile_takes_the_network_from_it)
{
	struct vfpool_sqe e = good_alloc();
	struct request r;
	const char *why = NULL;

	e.flags = VFPOOL_REQ_F_PROFILE;
	memset(e.network, 0, sizeof(e.network));
	strcpy(e.profile, "gold");
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_str_eq(r.profile, "gold");
	cr_assert_str_eq(r.network, "");
}

Test(request, valid_release_carries_its_generation)
{
	struct vfpool_sqe e = good_release();
	struct request r;
	const char *why = NULL;

	e.flags = VFPOOL_REQ_F_GEN;
	e.generation = 7;
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_eq(r.op, VFPOOL_OP_RELEASE);
	cr_assert_eq(r.generation, 7u);
	cr_assert_str_eq(r.vnic_id, "nic0");
}

/* ---- every refusal: one row per branch of request_decode ---------------------------- */

enum base { ALLOC, RELEASE, NOP };

#define CHARSET " has characters outside [A-Za-z0-9._:@-]"
#define NOT_PCI "pin_pci is not a PCI address (dddd:bb:ss.f)"
#define RELEASE_TAKES "release takes no MAC, pinned VF, profile or link"

/* The mutations: each breaks one thing in a valid entry. */
#define MUTATION(name, ...) static void name(struct vfpool_sqe *e) { __VA_ARGS__; }
MUTATION(opcode_past_the_last, e->opcode = VFPOOL_OP_NR)
MUTATION(opcode_77, e->opcode = 77)
MUTATION(flag_unknown, e->flags |= 1u << 31)
MUTATION(bind_pid_negative, e->bind_pid = -5)
MUTATION(bind_pid_set, e->bind_pid = 77)
MUTATION(reserved0_set, e->reserved0 = 1)
MUTATION(reserved2_set, e->reserved2[1] = 1)
MUTATION(reserved3_set, e->reserved3[sizeof(e->reserved3) - 1] = 1)
MUTATION(profile_gold, strcpy(e->profile, "gold"))
MUTATION(profile_empty, memset(e->profile, 0, sizeof(e->profile)))
MUTATION(profile_unterminated, memset(e->profile, 'g', sizeof(e->profile)))
MUTATION(profile_with_a_space, strcpy(e->profile, "go ld"))
MUTATION(vm_id_unterminated, memset(e->vm_id, 'a', sizeof(e->vm_id)))
MUTATION(vm_id_empty, memset(e->vm_id, 0, sizeof(e->vm_id)))
MUTATION(vm_id_with_a_space, strcpy(e->vm_id, "vm 1"))
MUTATION(vnic_id_unterminated, memset(e->vnic_id, 'n', sizeof(e->vnic_id)))
MUTATION(vnic_id_empty, memset(e->vnic_id, 0, sizeof(e->vnic_id)))
MUTATION(vnic_id_not_ascii, strcpy(e->vnic_id, "nic\xc3\xa9"))
MUTATION(generation_0, e->generation = 0)
MUTATION(generation_7, e->generation = 7)
MUTATION(network_unterminated, memset(e->network, 'r', sizeof(e->network)))
MUTATION(network_empty, memset(e->network, 0, sizeof(e->network)))
MUTATION(network_with_a_slash, strcpy(e->network, "red/../x"))
MUTATION(network_with_a_newline, strcpy(e->network, "red\nlevel=err"))
MUTATION(numa_below_minus_1, e->numa_node = -2)
MUTATION(numa_above_1023, e->numa_node = 1024)
MUTATION(numa_no_node, e->numa_node = -1)
MUTATION(pin_unterminated, memset(e->pin_pci, '0', sizeof(e->pin_pci)))
MUTATION(pin_empty, memset(e->pin_pci, 0, sizeof(e->pin_pci)))
MUTATION(pin_no_function, strcpy(e->pin_pci, "0000:3b:02"))
MUTATION(pin_upper_case, strcpy(e->pin_pci, "0000:3B:02.1"))
MUTATION(pin_slot_20, strcpy(e->pin_pci, "0000:3b:20.0"))
MUTATION(pin_function_8, strcpy(e->pin_pci, "0000:3b:02.8"))
MUTATION(pin_not_hex, strcpy(e->pin_pci, "zzzz:3b:02.1"))
MUTATION(pin_wrong_separator, strcpy(e->pin_pci, "0000-3b:02.1"))
MUTATION(pin_valid, strcpy(e->pin_pci, "0001:00:01.3"))
MUTATION(mac_zero, memset(e->mac, 0, sizeof(e->mac)))
MUTATION(mac_multicast, memcpy(e->mac, "\x01\x00\x5e\x00\x00\x01", 6))
#undef MUTATION

#define NUMA_REQUIRED_WITHOUT "NUMA node required without an alloc naming a node"

struct refusal {
	enum base base;
	uint32_t flags; /* OR-ed into the base entry's (none) before the mutation */
	void (*mutate)(struct vfpool_sqe *e);
	int err;
	const char *why;
};

static const struct refusal refusals[] = {
	{ ALLOC, 0, opcode_past_the_last, -EOPNOTSUPP, "unknown opcode" },
	{ ALLOC, 0, opcode_77, -EOPNOTSUPP, "unknown opcode" },
	{ ALLOC, 0, flag_unknown, -EINVAL, "unknown flags" },
	{ RELEASE, VFPOOL_REQ_F_EARLY, NULL, -EINVAL,
	  "early completion on a request other than alloc" },
	{ NOP, VFPOOL_REQ_F_EARLY, NULL, -EINVAL,
	  "early completion on a request other than alloc" },
	{ RELEASE, VFPOOL_REQ_F_BIND_PID, NULL, -EINVAL,
	  "bind flag on a request other than alloc" },
	{ ALLOC, VFPOOL_REQ_F_BIND_PID, bind_pid_negative, -EINVAL, "bind_pid negative" },
	{ ALLOC, 0, bind_pid_set, -EINVAL, "bind_pid set without the bind flag" },
	{ ALLOC, 0, reserved0_set, -EINVAL, "reserved field not zero" },
	{ ALLOC, 0, reserved2_set, -EINVAL, "reserved field not zero" },
	{ ALLOC, 0, reserved3_set, -EINVAL, "reserved field not zero" },
	{ RELEASE, 0, profile_gold, -EINVAL, "profile set on a request other than alloc" },
	{ NOP, 0, profile_gold, -EINVAL, "profile set on a request other than alloc" },
	{ NOP, VFPOOL_REQ_F_LINK, NULL, -EINVAL, "link flag on a nop" },
	{ ALLOC, 0, vm_id_unterminated, -EINVAL, "vm_id not NUL-terminated" },
	{ ALLOC, 0, vm_id_empty, -EINVAL, "vm_id missing" },
	{ ALLOC, 0, vm_id_with_a_space, -EINVAL, "vm_id" CHARSET },
	{ RELEASE, 0, vnic_id_unterminated, -EINVAL, "vnic_id not NUL-terminated" },
	{ RELEASE, 0, vnic_id_empty, -EINVAL, "vnic_id missing" },
	{ ALLOC, 0, vnic_id_not_ascii, -EINVAL, "vnic_id" CHARSET },
	{ RELEASE, VFPOOL_REQ_F_MAC, NULL, -EINVAL, RELEASE_TAKES },
	{ RELEASE, VFPOOL_REQ_F_PIN, NULL, -EINVAL, RELEASE_TAKES },
	{ RELEASE, VFPOOL_REQ_F_PROFILE, NULL, -EINVAL, RELEASE_TAKES },
	{ RELEASE, VFPOOL_REQ_F_LINK, NULL, -EINVAL, RELEASE_TAKES },
	{ RELEASE, VFPOOL_REQ_F_GEN, generation_0, -EINVAL, "generation 0 is never a lease" },
	{ ALLOC, 0, network_unterminated, -EINVAL, "network not NUL-terminated" },
	{ ALLOC, 0, network_empty, -EINVAL, "network missing" },
	{ ALLOC, 0, network_with_a_slash, -EINVAL, "network" CHARSET },
	{ ALLOC, 0, network_with_a_newline, -EINVAL, "network" CHARSET },
	{ ALLOC, VFPOOL_REQ_F_PROFILE, profile_empty, -EINVAL, "profile missing" },
	{ ALLOC, VFPOOL_REQ_F_PROFILE, network_empty, -EINVAL, "profile missing" },
	{ ALLOC, VFPOOL_REQ_F_PROFILE, profile_unterminated, -EINVAL,
	  "profile not NUL-terminated" },
	{ ALLOC, VFPOOL_REQ_F_PROFILE, profile_with_a_space, -EINVAL, "profile" CHARSET },
	{ ALLOC, 0, profile_gold, -EINVAL, "profile set without the profile flag" },
	{ ALLOC, VFPOOL_REQ_F_GEN, generation_7, -EINVAL, "alloc takes no generation" },
	{ ALLOC, 0, numa_below_minus_1, -EINVAL, "numa_node out of range" },
	{ ALLOC, 0, numa_above_1023, -EINVAL, "numa_node out of range" },
	{ ALLOC, VFPOOL_REQ_F_NUMA_REQUIRED, numa_no_node, -EINVAL, NUMA_REQUIRED_WITHOUT },
	{ RELEASE, VFPOOL_REQ_F_NUMA_REQUIRED, NULL, -EINVAL, NUMA_REQUIRED_WITHOUT },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_unterminated, -EINVAL, "pin_pci not NUL-terminated" },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_empty, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_no_function, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_upper_case, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_slot_20, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_function_8, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_not_hex, -EINVAL, NOT_PCI },
	{ ALLOC, VFPOOL_REQ_F_PIN, pin_wrong_separator, -EINVAL, NOT_PCI },
	{ ALLOC, 0, pin_valid, -EINVAL, "pin_pci set without the pin flag" },
	{ ALLOC, VFPOOL_REQ_F_MAC, mac_zero, -EINVAL, "mac is zero or multicast" },
	{ ALLOC, VFPOOL_REQ_F_MAC, mac_multicast, -EINVAL, "mac is zero or multicast" },
};

static struct vfpool_sqe base_entry(enum base b)
{
	return b == ALLOC ? good_alloc() : b == RELEASE ? good_release() : good_nop();
}

Test(request, every_refusal_has_its_errno_and_reason)
{
	static const char *const base_name[] = { "alloc", "release", "nop" };

	for (enum base b = ALLOC; b <= NOP; b++) {
		struct vfpool_sqe e = base_entry(b);
		struct request r;
		const char *why = NULL;

		cr_assert_eq(request_decode(&e, &r, &why), 0, "base %s refused: %s", base_name[b],
			     why);
	}
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		struct vfpool_sqe e = base_entry(t->base);
		struct request r;
		const char *why = NULL;

		e.flags |= t->flags;
		e.user_data = 0xdeadbeef00 + i;
		if (t->mutate)
			t->mutate(&e);
		memset(&r, 0, sizeof(r));
		int err = request_decode(&e, &r, &why);

		cr_assert_eq(err, t->err, "row %zu (%s, flags %#x): %d, %s", i, base_name[t->base],
			     t->flags, err, why);
		cr_assert_str_eq(why, t->why, "row %zu (%s, flags %#x)", i, base_name[t->base],
				 t->flags);
		/* the refusal is completed to the right request */
		cr_assert_eq(r.user_data, 0xdeadbeef00 + i, "row %zu lost user_data", i);
	}
}

Test(request, decode_carries_the_id_lengths_and_the_key_hashed_once)
{
	struct vfpool_sqe e = good_alloc();
	struct lease_key k = lease_key_of("6f1c2a3e-0000-4000-8000-000000000001", "nic0");
	struct request r;
	const char *why = NULL;

	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert(r.keyed);
	cr_assert_eq(r.vm_id_len, strlen(e.vm_id));
	cr_assert_eq(r.vnic_id_len, 4u);
	cr_assert_eq(r.key_hash, k.hash, "the lease index's hash of the pair");
	cr_assert_eq(r.vm_hash, k.vm_hash, "the quota's hash of the VM");
	/* the pair is hashed with a separator: moving a byte across it is another key */
	cr_assert_neq(lease_key_of("ab", "c").hash, lease_key_of("a", "bc").hash);
}

/* decoded in place, in one pass: a reused request (garbage from the last) and an entry
 * with bytes after an identifier's NUL still give ids whose every byte after the end is
 * zero (the state segment's readers check only the field's last byte) */
Test(request, decoded_ids_are_zero_after_their_end_whatever_was_there)
{
	struct vfpool_sqe e = good_alloc();
	struct request r;
	const char *why = NULL;

	memset(&r, 0xa5, sizeof(r));
	memcpy(e.vnic_id + 5, "junk", 4); /* "nic0\0junk": the id ends at the NUL */
	memcpy(e.network + 4, "x.y", 3);
	cr_assert_eq(request_decode(&e, &r, &why), 0, "%s", why);
	cr_assert_eq(r.vnic_id_len, 4);
	cr_assert_str_eq(r.vnic_id, "nic0");
	for (size_t i = 4; i < sizeof(r.vnic_id); i++)
		cr_assert_eq(r.vnic_id[i], 0, "vnic_id byte %zu", i);
	for (size_t i = 3; i < sizeof(r.network); i++)
		cr_assert_eq(r.network[i], 0, "network byte %zu", i);
	for (size_t i = strlen(r.vm_id); i < sizeof(r.vm_id); i++)
		cr_assert_eq(r.vm_id[i], 0, "vm_id byte %zu", i);
	cr_assert_str_eq(r.profile, "");
	cr_assert_eq(r.bind_pid, 0);
	cr_assert_eq(r.generation, 0u);
	cr_assert_eq(r.uid, REQUEST_UID_NONE);
}
