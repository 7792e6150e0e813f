/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci binding as a pure state machine (core/vfio/vfio_bind.h): each test plays the
 * kernel and the owner, step by step, and asserts the actions the machine asks for.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/vfio/vfio_bind.h"

#define PCI "0000:3b:02.1"

static struct vfio_world on(const char *driver)
{
	struct vfio_world w = { .present = true, .iommu_group = 7, .group_devices = 1 };

	snprintf(w.driver, sizeof(w.driver), "%s", driver);
	return w;
}

static struct vfio_action next(const struct vfio_bind *b)
{
	struct vfio_action a;

	vfio_bind_next_action(b, &a);
	return a;
}

static void look(struct vfio_bind *b, const char *driver)
{
	struct vfio_world w = on(driver);
	struct vfio_action a = next(b);

	cr_assert_eq(a.kind, VFIO_ACT_LOOK, "a look before state %d", b->state);
	cr_assert_eq(vfio_bind_observe(b, a.step, &w), 0);
}

static void expect_write(struct vfio_bind *b, enum vfio_file file, const char *driver,
			 const char *value)
{
	struct vfio_action a = next(b);

	cr_assert_eq(a.kind, VFIO_ACT_WRITE, "a write, state %d", b->state);
	cr_assert_eq(a.file, file, "writes %s, not %s", vfio_file_name(a.file),
		     vfio_file_name(file));
	if (driver)
		cr_assert_str_eq(a.driver, driver);
	cr_assert_str_eq(a.value, value);
	cr_assert_eq(vfio_bind_written(b, a.step, (long)strlen(value) + 1), 0);
}

static void expect_record(struct vfio_bind *b, const char *orig)
{
	struct vfio_action a = next(b);

	cr_assert_eq(a.kind, VFIO_ACT_RECORD);
	cr_assert_str_eq(a.driver, orig);
	cr_assert_eq(vfio_bind_recorded(b, a.step, 0, NULL), 0);
}

static void expect_forget(struct vfio_bind *b)
{
	struct vfio_action a = next(b);

	cr_assert_eq(a.kind, VFIO_ACT_FORGET);
	cr_assert_eq(vfio_bind_recorded(b, a.step, 0, NULL), 0);
}

static void expect_outcome(const struct vfio_bind *b, enum vfio_outcome want, int want_err)
{
	enum vfio_outcome o;
	const char *why;
	int err;

	cr_assert_eq(next(b).kind, VFIO_ACT_FINISHED);
	cr_assert_eq(vfio_bind_result(b, &o, &err, &why), 0);
	cr_assert_eq(o, want, "outcome %d, not %d (%s)", o, want, why);
	cr_assert_eq(err, want_err, "error %d, not %d (%s)", err, want_err, why);
}

Test(vfio_bind, a_bind_records_the_driver_then_overrides_unbinds_and_probes)
{
	struct vfio_bind b;

	vfio_bind_start(&b, PCI);
	look(&b, "ixgbevf");
	expect_record(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "vfio-pci");
	look(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_UNBIND, "ixgbevf", PCI);
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, "vfio-pci");
	expect_outcome(&b, VFIO_OK, 0);
	cr_assert_eq(vfio_bind_group(&b), 7);
}

Test(vfio_bind, an_unbind_gives_the_vf_back_and_forgets_the_record)
{
	struct vfio_bind b;

	vfio_unbind_start(&b, PCI, "ixgbevf");
	look(&b, "vfio-pci");
	expect_write(&b, VFIO_FILE_UNBIND, "vfio-pci", PCI);
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, "ixgbevf");
	expect_forget(&b);
	expect_outcome(&b, VFIO_OK, 0);
}

Test(vfio_bind, a_vf_whose_iommu_group_holds_another_device_is_refused_and_named)
{
	struct vfio_world w = on("ixgbevf");
	struct vfio_bind b;
	const char *why;

	w.group_devices = 2;
	snprintf(w.group_other, sizeof(w.group_other), "0000:00:1f.0");
	vfio_bind_start(&b, PCI);
	cr_assert_eq(vfio_bind_observe(&b, next(&b).step, &w), 0);
	expect_outcome(&b, VFIO_REFUSED, -EBUSY);
	vfio_bind_result(&b, NULL, NULL, &why);
	cr_assert(strstr(why, PCI) && strstr(why, "IOMMU group 7") && strstr(why, "0000:00:1f.0"),
		  "names the VF, its group and the other device: %s", why);
}

Test(vfio_bind, a_vf_already_on_vfio_pci_is_someone_elses_and_refused)
{
	struct vfio_bind b;
	const char *why;

	vfio_bind_start(&b, PCI);
	look(&b, "vfio-pci");
	expect_outcome(&b, VFIO_REFUSED, -EBUSY);
	vfio_bind_result(&b, NULL, NULL, &why);
	cr_assert(strstr(why, "another party"), "%s", why);
}

Test(vfio_bind, a_vf_without_an_iommu_group_is_refused)
{
	struct vfio_world w = on("ixgbevf");
	struct vfio_bind b;

	w.iommu_group = -1;
	vfio_bind_start(&b, PCI);
	cr_assert_eq(vfio_bind_observe(&b, next(&b).step, &w), 0);
	expect_outcome(&b, VFIO_REFUSED, -ENODEV);
}

Test(vfio_bind, a_record_that_cannot_be_written_changes_nothing)
{
	struct vfio_bind b;
	struct vfio_action a;

	vfio_bind_start(&b, PCI);
	look(&b, "ixgbevf");
	a = next(&b);
	cr_assert_eq(a.kind, VFIO_ACT_RECORD);
	cr_assert_eq(vfio_bind_recorded(&b, a.step, -ENOSPC, "no space"), 0);
	expect_outcome(&b, VFIO_REFUSED, -ENOSPC);
}

Test(vfio_bind, vfio_pci_not_taking_the_vf_rolls_the_bind_back)
{
	struct vfio_bind b;
	const char *why;

	vfio_bind_start(&b, PCI);
	look(&b, "ixgbevf");
	expect_record(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "vfio-pci");
	look(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_UNBIND, "ixgbevf", PCI);
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, ""); /* vfio-pci not loaded: nobody took it */
	cr_assert(vfio_bind_rolling_back(&b));
	look(&b, ""); /* nothing to unbind from vfio-pci */
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, "ixgbevf");
	expect_forget(&b);
	expect_outcome(&b, VFIO_FAILED, -ENXIO);
	vfio_bind_result(&b, NULL, NULL, &why);
	cr_assert(strstr(why, "is vfio-pci loaded"), "%s", why);
}

Test(vfio_bind, a_failed_write_after_the_override_rolls_back)
{
	struct vfio_bind b;
	struct vfio_action a;

	vfio_bind_start(&b, PCI);
	look(&b, "ixgbevf");
	expect_record(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "vfio-pci");
	look(&b, "ixgbevf");
	a = next(&b);
	cr_assert_eq(a.kind, VFIO_ACT_WRITE);
	cr_assert_eq(vfio_bind_written(&b, a.step, -EIO), 0);
	look(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "ixgbevf"); /* still on its driver: no reprobe needed */
	expect_forget(&b);
	expect_outcome(&b, VFIO_FAILED, -EIO);
}

Test(vfio_bind, an_unbind_that_leaves_the_wrong_driver_is_dirty)
{
	struct vfio_bind b;

	vfio_unbind_start(&b, PCI, "ixgbevf");
	look(&b, "vfio-pci");
	expect_write(&b, VFIO_FILE_UNBIND, "vfio-pci", PCI);
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, "");
	expect_outcome(&b, VFIO_DIRTY, -ENXIO);
}

Test(vfio_bind, a_vf_that_had_no_driver_is_back_when_the_kernel_picks_its_own)
{
	struct vfio_bind b;

	vfio_unbind_start(&b, PCI, "");
	look(&b, "vfio-pci");
	expect_write(&b, VFIO_FILE_UNBIND, "vfio-pci", PCI);
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "nvme"); /* the kernel's autoprobe after the override went */
	expect_forget(&b);
	expect_outcome(&b, VFIO_OK, 0);
}

Test(vfio_bind, a_resumed_bind_skips_what_a_crash_left_done)
{
	struct vfio_bind b;

	/* the crash came after the unbind: override set, no driver */
	vfio_bind_resume(&b, PCI, "ixgbevf");
	look(&b, "");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "vfio-pci");
	look(&b, "");
	expect_write(&b, VFIO_FILE_PROBE, NULL, PCI);
	look(&b, "vfio-pci");
	expect_outcome(&b, VFIO_OK, 0);
	cr_assert_str_eq(b.orig, "ixgbevf", "the record's driver, not the one seen");
}

Test(vfio_bind, a_resumed_unbind_of_a_vf_back_on_its_driver_only_forgets)
{
	struct vfio_bind b;

	vfio_unbind_start(&b, PCI, "ixgbevf");
	look(&b, "ixgbevf");
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, "ixgbevf");
	expect_forget(&b);
	expect_outcome(&b, VFIO_OK, 0);
}

Test(vfio_bind, an_unbind_of_a_vf_that_is_gone_only_forgets)
{
	struct vfio_world gone = { .iommu_group = -1 };
	struct vfio_bind b;

	vfio_unbind_start(&b, PCI, "ixgbevf");
	cr_assert_eq(vfio_bind_observe(&b, next(&b).step, &gone), 0);
	expect_forget(&b);
	expect_outcome(&b, VFIO_OK, 0);
}

Test(vfio_bind, an_unbind_that_the_driver_let_go_of_already_is_not_a_failure)
{
	struct vfio_bind b;
	struct vfio_action a;

	vfio_unbind_start(&b, PCI, "");
	look(&b, "vfio-pci");
	a = next(&b);
	cr_assert_eq(vfio_bind_written(&b, a.step, -ENODEV), 0);
	expect_write(&b, VFIO_FILE_OVERRIDE, NULL, "");
	look(&b, ""); /* no original driver: nothing to reprobe */
	expect_forget(&b);
	expect_outcome(&b, VFIO_OK, 0);
}

Test(vfio_bind, inputs_of_an_earlier_step_are_stale)
{
	struct vfio_bind b;
	struct vfio_world w = on("ixgbevf");
	uint32_t old;

	vfio_bind_start(&b, PCI);
	old = next(&b).step;
	look(&b, "ixgbevf");
	cr_assert_eq(vfio_bind_observe(&b, old, &w), -ESTALE);
	cr_assert_eq(vfio_bind_written(&b, old, 1), -ESTALE);
	cr_assert_eq(vfio_bind_written(&b, next(&b).step, 1), -EINVAL, "a record is awaited");
	cr_assert_eq(vfio_bind_result(&b, NULL, NULL, NULL), -EINPROGRESS);
}
