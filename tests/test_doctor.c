/* SPDX-License-Identifier: MIT */
/* vfpoolctl doctor against testbeds: a healthy host, chipsets with broken interrupt
 * remapping, a host without IOMMU groups, a host without vfio-pci. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/vfpoolctl/doctor.h"
#include "tests/udev_testbed.h"

static char *run_doctor(int *ret_status)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	*ret_status = vfpoolctl_doctor(out);
	fclose(out);
	return text;
}

TestSuite(doctor);

Test(doctor, healthy_host_passes)
{
	UMockdevTestbed *tb = testbed_from_fixture("host_two_vendors.umockdev");
	int status;
	char *text;

	testbed_add_pci_driver(tb, "vfio-pci");
	text = run_doctor(&status);
	cr_assert_eq(status, DOCTOR_PASS, "%s", text);
	cr_assert(strstr(text, "PASS iommu: enabled"), "%s", text);
	cr_assert(strstr(text, "PASS vfio-pci"), "%s", text);
	cr_assert(strstr(text, "PASS pf: 0000:3b:00.0 (8086:1572, i40e): SR-IOV, 8 VFs supported, "
			       "4 enabled"), "%s", text);
	cr_assert(strstr(text, "PASS pf: 0000:5e:00.0 (15b3:1017, mlx5_core)"), "%s", text);
	cr_assert_null(strstr(text, "allow_unsafe_interrupts"), "%s", text);
	free(text);
	g_object_unref(tb);
}

Test(doctor, broken_interrupt_remapping_warns_with_the_kernel_parameter)
{
	static const char *const broken[] = { "0000:00:00.0", "0000:00:01.0", "0000:00:02.0",
					      "0000:00:03.0" };
	static const char *const fine[] = { "0000:00:04.0", "0000:00:05.0", "0000:00:06.0" };
	UMockdevTestbed *tb = testbed_from_fixture("doctor_remapping.umockdev");
	int status;
	char *text;

	testbed_add_pci_driver(tb, "vfio-pci");
	text = run_doctor(&status);
	cr_assert_eq(status, DOCTOR_WARN, "%s", text);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "WARN interrupt-remapping: %s", broken[i]);
		cr_assert(strstr(text, want), "%s not flagged:\n%s", broken[i], text);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		cr_assert_null(strstr(text, fine[i]), "%s flagged:\n%s", fine[i], text);
	cr_assert(strstr(text, "vfio_iommu_type1.allow_unsafe_interrupts=1"), "%s", text);
	cr_assert(strstr(text, "PASS pf: 0000:00:07.0"), "%s", text);
	free(text);
	g_object_unref(tb);
}

Test(doctor, no_iommu_groups_fails)
{
	UMockdevTestbed *tb = testbed_from_fixture("doctor_no_iommu.umockdev");
	int status;
	char *text;

	testbed_add_pci_driver(tb, "vfio-pci");
	text = run_doctor(&status);
	cr_assert_eq(status, DOCTOR_FAIL, "%s", text);
	cr_assert(strstr(text, "FAIL iommu: no IOMMU groups"), "%s", text);
	free(text);
	g_object_unref(tb);
}

Test(doctor, pf_without_driver_warns)
{
	UMockdevTestbed *tb = testbed_from_fixture("doctor_no_iommu.umockdev");
	int status;
	char *text;

	text = run_doctor(&status);
	cr_assert(strstr(text, "WARN pf: 0000:00:07.0 (8086:1572): no driver bound"), "%s", text);
	free(text);
	g_object_unref(tb);
}

Test(doctor, missing_vfio_pci_warns)
{
	UMockdevTestbed *tb = testbed_from_fixture("host_two_vendors.umockdev");
	int status;
	char *text;

	text = run_doctor(&status);
	cr_assert_eq(status, DOCTOR_WARN, "%s", text);
	cr_assert(strstr(text, "WARN vfio-pci: driver not loaded"), "%s", text);
	free(text);
	g_object_unref(tb);
}
