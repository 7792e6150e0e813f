/* SPDX-License-Identifier: MIT */
/* The udev monitor decoder: the test plays the kernel on a umockdev testbed (adds, removes,
 * binds, renames) and checks what each event decodes to. */
#include <libudev.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/host/host_monitor.h"
#include "core/host/host_udev.h"
#include "tests/udev_testbed.h"

#define DEV_A "/sys/devices/pci0000:3a/0000:3a:00.0"

static UMockdevTestbed *tb;
static struct udev *udev;
static struct udev_monitor *mon;

static void setup(void)
{
	tb = testbed_from_fixture("host_two_vendors.umockdev");
	udev = udev_new();
	cr_assert(udev);
	cr_assert_eq(host_monitor_new(udev, &mon), 0);
}

static void teardown(void)
{
	if (mon)
		udev_monitor_unref(mon);
	if (udev)
		udev_unref(udev);
	if (tb)
		g_object_unref(tb);
}

TestSuite(udev_monitor, .init = setup, .fini = teardown);

/* The next event that decodes as relevant and is about addr. The poll bound only keeps a
 * broken test from hanging; the events are already queued when this runs. */
static struct host_change next_change(const char *addr)
{
	struct pollfd p = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };

	while (poll(&p, 1, 5000) > 0) {
		struct udev_device *d = udev_monitor_receive_device(mon);
		struct host_change c;
		int r;

		if (!d)
			continue;
		r = host_change_from_udev(d, &c);
		udev_device_unref(d);
		if (r == 0 && strcmp(c.pci_addr, addr) == 0)
			return c;
	}
	cr_assert_fail("no relevant event about %s arrived", addr);
	return (struct host_change){ 0 };
}

static int decode_next(struct host_change *c)
{
	struct pollfd p = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
	struct udev_device *d;
	int r;

	cr_assert_gt(poll(&p, 1, 5000), 0, "no event arrived");
	d = udev_monitor_receive_device(mon);
	cr_assert_not_null(d);
	r = host_change_from_udev(d, c);
	udev_device_unref(d);
	return r;
}

static void add_vf(const char *addr, const char *pf)
{
	char *s = g_strdup_printf("P: /devices/pci0000:3a/0000:3a:00.0/%s\nE: SUBSYSTEM=pci\n"
				  "E: PCI_SLOT_NAME=%s\nA: vendor=0x8086\nA: device=0x154c\n"
				  "L: physfn=../%s\n"
				  "L: iommu_group=../../../../kernel/iommu_groups/70\n",
				  addr, addr, pf);
	GError *err = NULL;

	cr_assert(umockdev_testbed_add_from_string(tb, s, &err), "%s", err ? err->message : "");
	g_free(s);
}

Test(udev_monitor, vf_added_names_its_pf)
{
	struct host_change c;

	add_vf("0000:3b:02.4", "0000:3b:00.0");
	umockdev_testbed_uevent(tb, DEV_A "/0000:3b:02.4", "add");
	c = next_change("0000:3b:02.4");
	cr_assert_eq(c.kind, HOST_VF_ADDED, "%s", host_change_kind_name(c.kind));
	cr_assert_str_eq(c.pf_addr, "0000:3b:00.0");
}

Test(udev_monitor, vf_removed_resolves_against_the_model)
{
	struct host *host;
	struct host_change c;

	cr_assert_eq(host_discover(udev, &host), 0);
	umockdev_testbed_uevent(tb, DEV_A "/0000:3b:02.3", "remove");
	umockdev_testbed_remove_device(tb, DEV_A "/0000:3b:02.3");
	c = next_change("0000:3b:02.3");
	cr_assert_eq(c.kind, HOST_PCI_REMOVED);
	cr_assert_eq(host_change_resolve(host, &c), 0);
	cr_assert_eq(c.kind, HOST_VF_REMOVED);
	cr_assert_str_eq(c.pf_addr, "0000:3b:00.0");
	host_free(host);
}

Test(udev_monitor, pf_removed_resolves_against_the_model)
{
	struct host *host;
	struct host_change c;

	cr_assert_eq(host_discover(udev, &host), 0);
	umockdev_testbed_uevent(tb, "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0", "remove");
	c = next_change("0000:5e:00.0");
	cr_assert_eq(host_change_resolve(host, &c), 0);
	cr_assert_eq(c.kind, HOST_PF_REMOVED);
	host_free(host);
}

Test(udev_monitor, removal_of_unknown_device_does_not_resolve)
{
	struct host *host;
	struct host_change c;

	cr_assert_eq(host_discover(udev, &host), 0);
	umockdev_testbed_uevent(tb, DEV_A "/0000:3c:00.0", "remove");
	c = next_change("0000:3c:00.0");
	cr_assert_eq(host_change_resolve(host, &c), -ENOENT);
	host_free(host);
}

Test(udev_monitor, vf_bind_and_unbind_report_the_driver)
{
	const char *vf = DEV_A "/0000:3b:02.0";
	struct host_change c;
	char *link = testbed_sys_path(tb, "devices/pci0000:3a/0000:3a:00.0/0000:3b:02.0/driver");

	/* umockdev will not replace a link: the unbind from iavf comes first, as in the kernel */
	cr_assert_eq(unlink(link), 0);
	free(link);
	umockdev_testbed_set_attribute_link(tb, vf, "driver", "../../../../bus/pci/drivers/vfio-pci");
	umockdev_testbed_set_property(tb, vf, "DRIVER", "vfio-pci");
	umockdev_testbed_uevent(tb, vf, "bind");
	c = next_change("0000:3b:02.0");
	cr_assert_eq(c.kind, HOST_VF_DRIVER_CHANGED);
	cr_assert_str_eq(c.driver, "vfio-pci");
	cr_assert_str_eq(c.pf_addr, "0000:3b:00.0");

	umockdev_testbed_uevent(tb, vf, "unbind");
	c = next_change("0000:3b:02.0");
	cr_assert_eq(c.kind, HOST_VF_DRIVER_CHANGED);
	cr_assert_str_eq(c.driver, "");
}

Test(udev_monitor, netdev_rename_reports_old_and_new_name)
{
	const char *old = DEV_A "/0000:3b:02.0/net/ens1f0v0";
	const char *new = DEV_A "/0000:3b:02.0/net/vm-eth0";
	GError *err = NULL;
	struct host_change c;

	/* a rename moves the directory; umockdev cannot, so the old one goes and a new one
	 * comes, and the move event carries DEVPATH_OLD as the kernel's does */
	umockdev_testbed_remove_device(tb, old);
	cr_assert(umockdev_testbed_add_from_string(tb,
		"P: /devices/pci0000:3a/0000:3a:00.0/0000:3b:02.0/net/vm-eth0\n"
		"E: SUBSYSTEM=net\nE: INTERFACE=vm-eth0\nE: IFINDEX=20\nA: ifindex=20\n", &err));
	umockdev_testbed_set_property(tb, new, "DEVPATH_OLD",
				      "/devices/pci0000:3a/0000:3a:00.0/0000:3b:02.0/net/ens1f0v0");
	umockdev_testbed_uevent(tb, new, "move");
	do
		c = next_change("0000:3b:02.0");
	while (c.kind != HOST_NETDEV_RENAMED);
	cr_assert_str_eq(c.netdev, "vm-eth0");
	cr_assert_str_eq(c.old_netdev, "ens1f0v0");
}

Test(udev_monitor, netdev_removed_names_its_pci_device)
{
	const char *net = DEV_A "/0000:3b:02.1/net/ens1f0v1";
	struct host_change c;

	umockdev_testbed_uevent(tb, net, "remove");
	umockdev_testbed_remove_device(tb, net);
	c = next_change("0000:3b:02.1");
	cr_assert_eq(c.kind, HOST_NETDEV_REMOVED);
	cr_assert_str_eq(c.netdev, "ens1f0v1");
}

Test(udev_monitor, non_sriov_pci_device_is_not_relevant)
{
	struct host_change c;

	umockdev_testbed_uevent(tb, DEV_A "/0000:3c:00.0", "change");
	cr_assert_eq(decode_next(&c), -ENOENT);
}

/* The kernel announces a VF before it links it to its PF: decoded then, it is a PCI device
 * that is neither; decoded again once the link exists, a VF of its PF. */
Test(udev_monitor, vf_announced_before_its_physfn_link_is_rechecked_into_a_vf)
{
	const char *vf = DEV_A "/0000:3b:02.5";
	struct host_change c;
	GError *err = NULL;

	cr_assert(umockdev_testbed_add_from_string(tb,
		"P: /devices/pci0000:3a/0000:3a:00.0/0000:3b:02.5\nE: SUBSYSTEM=pci\n"
		"E: PCI_SLOT_NAME=0000:3b:02.5\nA: vendor=0x8086\nA: device=0x154c\n", &err));
	umockdev_testbed_uevent(tb, vf, "add");
	c = next_change("0000:3b:02.5");
	cr_assert_eq(c.kind, HOST_PCI_ADDED, "kind %s", host_change_kind_name(c.kind));
	cr_assert_eq(host_change_recheck(udev, "0000:3b:02.5", &c), -EAGAIN);
	umockdev_testbed_set_attribute_link(tb, vf, "physfn", "../0000:3b:00.0");
	cr_assert_eq(host_change_recheck(udev, "0000:3b:02.5", &c), 0);
	cr_assert_eq(c.kind, HOST_VF_ADDED, "kind %s", host_change_kind_name(c.kind));
	cr_assert_str_eq(c.pf_addr, "0000:3b:00.0");
	umockdev_testbed_remove_device(tb, vf);
	cr_assert_eq(host_change_recheck(udev, "0000:3b:02.5", &c), -ENODEV);
}

Test(udev_monitor, virtual_netdev_is_not_relevant)
{
	struct host_change c;

	umockdev_testbed_uevent(tb, "/sys/devices/virtual/net/bond0", "change");
	cr_assert_eq(decode_next(&c), -ENOENT);
}

Test(udev_monitor, pf_change_event_decodes)
{
	struct host_change c;

	umockdev_testbed_uevent(tb, DEV_A "/0000:3b:00.0", "change");
	c = next_change("0000:3b:00.0");
	cr_assert_eq(c.kind, HOST_PF_CHANGED);
}
