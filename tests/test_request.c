/* SPDX-License-Identifier: MIT */
/* Request decoding: everything a client writes is hostile. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/request.h"

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

static int decode(const struct vfpool_sqe *e, const char **why)
{
	struct request r;

	*why = NULL;
	return request_decode(e, &r, why);
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

Test(request, unknown_opcode_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.opcode = 77;
	cr_assert_eq(decode(&e, &why), -EOPNOTSUPP);
	cr_assert_str_eq(why, "unknown opcode");
}

Test(request, unknown_flags_are_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.flags = 1u << 20;
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert_str_eq(why, "unknown flags");
}

Test(request, reserved_bytes_must_be_zero)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.reserved3[sizeof(e.reserved3) - 1] = 1;
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert_str_eq(why, "reserved field not zero");
}

Test(request, unterminated_vm_id_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	memset(e.vm_id, 'a', sizeof(e.vm_id));
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert_str_eq(why, "vm_id not NUL-terminated");
}

Test(request, empty_vnic_id_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.vnic_id[0] = '\0';
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert_str_eq(why, "vnic_id missing");
}

Test(request, identifier_with_a_slash_or_newline_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	strcpy(e.network, "red/../x");
	cr_assert_eq(decode(&e, &why), -EINVAL);
	strcpy(e.network, "red\nlevel=err");
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert(strstr(why, "network"), "why names the field: %s", why);
}

Test(request, malformed_pinned_pci_address_is_refused)
{
	static const char *bad[] = { "0000:3b:02", "0000:3B:02.1", "0000:3b:20.0", "0000:3b:02.8",
				     "zzzz:3b:02.1" };
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vfpool_sqe e = good_alloc();

		e.flags = VFPOOL_REQ_F_PIN;
		strcpy(e.pin_pci, bad[i]);
		cr_assert_eq(decode(&e, &why), -EINVAL, "%s accepted", bad[i]);
	}
}

Test(request, pin_bytes_without_the_flag_are_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	strcpy(e.pin_pci, "0001:00:01.3");
	cr_assert_eq(decode(&e, &why), -EINVAL);
}

Test(request, multicast_or_zero_mac_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.flags = VFPOOL_REQ_F_MAC;
	cr_assert_eq(decode(&e, &why), -EINVAL);
	memcpy(e.mac, "\x01\x00\x5e\x00\x00\x01", 6);
	cr_assert_eq(decode(&e, &why), -EINVAL);
	cr_assert_str_eq(why, "mac is zero or multicast");
}

Test(request, numa_node_out_of_range_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.numa_node = -2;
	cr_assert_eq(decode(&e, &why), -EINVAL);
	e.numa_node = 5000;
	cr_assert_eq(decode(&e, &why), -EINVAL);
}

Test(request, release_with_generation_zero_is_refused)
{
	struct vfpool_sqe e = good_alloc();
	const char *why;

	e.opcode = VFPOOL_OP_RELEASE;
	memset(e.network, 0, sizeof(e.network));
	e.flags = VFPOOL_REQ_F_GEN;
	cr_assert_eq(decode(&e, &why), -EINVAL);
	e.generation = 7;
	cr_assert_eq(decode(&e, &why), 0);
}

Test(request, user_data_survives_a_rejection)
{
	struct vfpool_sqe e = good_alloc();
	struct request r;
	const char *why;

	e.opcode = 99;
	e.user_data = 0xdeadbeef;
	cr_assert_neq(request_decode(&e, &r, &why), 0);
	cr_assert_eq(r.user_data, 0xdeadbeefu);
}
