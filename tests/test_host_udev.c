/* SPDX-License-Identifier: MIT */
/* Discovery against tests/fixtures/host_two_vendors.umockdev: an Intel X710 (two ports, the
 * second a bond slave) and a Mellanox ConnectX-5; one VF shares its IOMMU group with a
 * non-VF device, one VF is bound to vfio-pci by someone else. */
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/model/host_counts.h"
#include "core/host/host_udev.h"
#include "tests/udev_testbed.h"

static UMockdevTestbed *tb;
static struct udev *udev;
static struct host *host;

static void discover(void)
{
	tb = testbed_from_fixture("host_two_vendors.umockdev");
	udev = udev_new();
	cr_assert(udev);
	cr_assert_eq(host_discover(udev, &host), 0);
}

static void teardown(void)
{
	host_free(host);
	if (udev)
		udev_unref(udev);
	if (tb)
		g_object_unref(tb);
}

TestSuite(udev_discovery, .init = discover, .fini = teardown);

static const struct host_pf *pf_named(const char *addr, uint32_t *ret_index)
{
	for (size_t i = 0; i < host->n_pfs; i++)
		if (strcmp(host->pfs[i].pci_addr, addr) == 0) {
			if (ret_index)
				*ret_index = (uint32_t)i;
			return &host->pfs[i];
		}
	cr_assert_fail("PF %s not discovered", addr);
	return NULL;
}

static const struct host_vf *vf_named(const char *addr)
{
	for (size_t i = 0; i < host->n_vfs; i++)
		if (strcmp(host->vfs[i].pci_addr, addr) == 0)
			return &host->vfs[i];
	cr_assert_fail("VF %s not discovered", addr);
	return NULL;
}

Test(udev_discovery, finds_every_pf_sorted_by_address)
{
	cr_assert_eq(host->n_pfs, 3);
	cr_assert_str_eq(host->pfs[0].pci_addr, "0000:3b:00.0");
	cr_assert_str_eq(host->pfs[1].pci_addr, "0000:3b:00.1");
	cr_assert_str_eq(host->pfs[2].pci_addr, "0000:5e:00.0");
}

Test(udev_discovery, pf_identity_of_two_vendors)
{
	const struct host_pf *intel = pf_named("0000:3b:00.0", NULL);
	const struct host_pf *mlx = pf_named("0000:5e:00.0", NULL);

	cr_assert_eq(intel->vendor, 0x8086);
	cr_assert_eq(intel->device, 0x1572);
	cr_assert_str_eq(intel->driver, "i40e");
	cr_assert_str_eq(intel->netdev, "ens1f0");
	cr_assert_eq(intel->numa_node, 0);
	cr_assert_eq(mlx->vendor, 0x15b3);
	cr_assert_eq(mlx->device, 0x1017);
	cr_assert_str_eq(mlx->driver, "mlx5_core");
	cr_assert_str_eq(mlx->netdev, "ens2f0");
	cr_assert_eq(mlx->numa_node, 1);
}

Test(udev_discovery, bonded_pf_is_an_ordinary_pf_with_its_bond)
{
	uint32_t idx = 0;
	const struct host_pf *pf;
	struct host_pf_counts c;

	pf = pf_named("0000:3b:00.1", &idx);
	cr_assert_str_eq(pf->netdev, "ens1f1");
	cr_assert_str_eq(pf->bond_master, "bond0");
	cr_assert_str_eq(pf_named("0000:3b:00.0", NULL)->bond_master, "");
	cr_assert_eq(host_pf_counts(host, idx, NULL, &c), 0);
	cr_assert_eq(c.total, 8);
	cr_assert_eq(c.existing, 2);
	cr_assert_eq(c.free, 2);
}

Test(udev_discovery, per_pf_counts_exact)
{
	static const struct {
		const char *pf;
		uint32_t total, existing, free, shared, bound;
	} want[] = {
		{ "0000:3b:00.0", 8, 4, 2, 1, 1 },
		{ "0000:3b:00.1", 8, 2, 2, 0, 0 },
		{ "0000:5e:00.0", 4, 2, 2, 0, 0 },
	};

	cr_assert_eq(host->n_vfs, 8);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct host_pf_counts c;
		uint32_t idx = 0;

		pf_named(want[i].pf, &idx);
		cr_assert_eq(host_pf_counts(host, idx, NULL, &c), 0);
		cr_assert_eq(c.total, want[i].total, "%s total %u", want[i].pf, c.total);
		cr_assert_eq(c.existing, want[i].existing, "%s existing %u", want[i].pf, c.existing);
		cr_assert_eq(c.free, want[i].free, "%s free %u", want[i].pf, c.free);
		cr_assert_eq(c.iommu_shared, want[i].shared, "%s shared %u", want[i].pf, c.iommu_shared);
		cr_assert_eq(c.bound_other, want[i].bound, "%s bound %u", want[i].pf, c.bound_other);
		cr_assert_eq(host->pfs[idx].num_vfs, want[i].existing);
	}
}

Test(udev_discovery, leased_vfs_are_not_free)
{
	bool *leased = calloc(host->n_vfs, sizeof(*leased));
	struct host_pf_counts c;
	uint32_t idx = 0;

	cr_assert(leased);
	pf_named("0000:5e:00.0", &idx);
	for (size_t i = 0; i < host->n_vfs; i++)
		if (host->vfs[i].pf == idx) {
			leased[i] = true;
			break;
		}
	cr_assert_eq(host_pf_counts(host, idx, leased, &c), 0);
	cr_assert_eq(c.leased, 1);
	cr_assert_eq(c.free, 1);
	free(leased);
}

Test(udev_discovery, vfs_grouped_by_pf_in_virtfn_order)
{
	static const char *const order[] = {
		"0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3",
		"0000:3b:0a.0", "0000:3b:0a.1", "0000:5e:00.2", "0000:5e:00.3",
	};

	cr_assert_eq(host->n_vfs, 8);
	for (size_t i = 0; i < host->n_vfs; i++) {
		cr_assert_str_eq(host->vfs[i].pci_addr, order[i]);
		cr_assert_eq(host->vfs[i].pf, i < 4 ? 0 : i < 6 ? 1 : 2);
		cr_assert_eq(host->vfs[i].vf_index, i < 4 ? i : i < 6 ? i - 4 : i - 6);
	}
}

Test(udev_discovery, vf_netdev_driver_numa_ifindex)
{
	const struct host_vf *vf = vf_named("0000:3b:02.3");
	const struct host_vf *mlx = vf_named("0000:5e:00.3");

	cr_assert_str_eq(vf->netdev, "ens1f0v3");
	cr_assert_str_eq(vf->driver, "iavf");
	cr_assert_eq(vf->ifindex, 23);
	cr_assert_eq(vf->numa_node, 0);
	cr_assert_eq(vf->iommu_group, 53);
	cr_assert_not(vf->bound_other);
	cr_assert_str_eq(mlx->netdev, "ens2f0v1");
	cr_assert_str_eq(mlx->driver, "mlx5_core");
	cr_assert_eq(mlx->numa_node, 1);
}

Test(udev_discovery, vf_bound_to_vfio_by_someone_else_is_marked)
{
	const struct host_vf *vf = vf_named("0000:3b:02.2");

	cr_assert_str_eq(vf->driver, "vfio-pci");
	cr_assert_str_eq(vf->netdev, "");
	cr_assert(vf->bound_other);
}

Test(udev_discovery, shared_iommu_group_names_the_other_device)
{
	const struct host_vf *vf = vf_named("0000:3b:02.1");
	const struct host_iommu_group *g = host_find_group(host, vf->iommu_group);

	cr_assert_eq(vf->iommu_group, 51);
	cr_assert_not_null(g);
	cr_assert_eq(g->n_devices, 2);
	cr_assert_str_eq(g->other_dev, "0000:3c:00.0");
	cr_assert(host_vf_iommu_shared(host, vf));
}

Test(udev_discovery, groups_sorted_and_one_per_vf_group)
{
	cr_assert_eq(host->n_groups, 8);
	for (size_t i = 1; i < host->n_groups; i++)
		cr_assert_lt(host->groups[i - 1].group, host->groups[i].group);
	for (size_t i = 0; i < host->n_vfs; i++) {
		const struct host_iommu_group *g = host_find_group(host, host->vfs[i].iommu_group);

		cr_assert_not_null(g, "group of %s missing", host->vfs[i].pci_addr);
		if (strcmp(host->vfs[i].pci_addr, "0000:3b:02.1") != 0) {
			cr_assert_eq(g->n_devices, 1, "%s", host->vfs[i].pci_addr);
			cr_assert_str_eq(g->other_dev, "");
		}
	}
}

Test(udev_discovery, empty_host_has_no_pfs)
{
	UMockdevTestbed *empty;
	struct host *h = NULL;

	/* the suite's testbed is replaced: a newer testbed wins the /sys redirection */
	g_object_unref(tb);
	tb = NULL;
	empty = umockdev_testbed_new();
	cr_assert_eq(host_discover(udev, &h), 0);
	cr_assert_eq(h->n_pfs, 0);
	cr_assert_eq(h->n_vfs, 0);
	cr_assert_eq(h->n_groups, 0);
	host_free(h);
	g_object_unref(empty);
}
