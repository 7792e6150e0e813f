/* SPDX-License-Identifier: MIT */
/* VF netdev names to ifindexes: one listing of the namespace's interfaces for all VFs. */
#include <criterion/criterion.h>
#include <net/if.h>
#include <string.h>

#include "core/probe/vf_netdevs.h"

Test(vf_netdevs, existing_names_resolve_and_missing_or_empty_ones_are_zero)
{
	struct vfpool_shm_vf vfs[4];
	int32_t ifindex[4] = { -1, -1, -1, -1 };
	unsigned lo = if_nametoindex("lo");

	if (lo == 0)
		cr_skip_test("no loopback interface in this network namespace");
	memset(vfs, 0, sizeof(vfs));
	strcpy(vfs[0].netdev, "vfpool-none0");
	strcpy(vfs[1].netdev, "lo");
	/* vfs[2]: no netdev (e.g. bound to vfio-pci) */
	strcpy(vfs[3].netdev, "vfpool-none1");

	cr_assert_eq(vf_netdevs_resolve(vfs, 4, ifindex), 1);
	cr_assert_eq(ifindex[0], 0);
	cr_assert_eq(ifindex[1], (int32_t)lo);
	cr_assert_eq(ifindex[2], 0);
	cr_assert_eq(ifindex[3], 0);
}

Test(vf_netdevs, no_vfs_is_no_work)
{
	int32_t ifindex[1] = { -1 };

	cr_assert_eq(vf_netdevs_resolve(NULL, 0, ifindex), 0);
}
