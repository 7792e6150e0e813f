/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "client/vfpoolctl/doctor.h"

struct doctor {
	vfpoolctl_doctor_fn fn;
	void *userdata;
	int status;
};

const char *vfpoolctl_doctor_tag(enum vfpoolctl_doctor_status status)
{
	static const char *const tag[] = { "PASS", "WARN", "FAIL", "ERROR" };

	return (unsigned)status < 4 ? tag[status] : "ERROR";
}

__attribute__((format(printf, 4, 5))) static void report(struct doctor *d, int status,
							 const char *check, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (status > d->status)
		d->status = status;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	d->fn(d->userdata, status, check, detail);
}

static bool has_link(struct udev_device *dev, const char *link)
{
	char path[PATH_MAX], target[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", udev_device_get_syspath(dev), link) >=
	    sizeof(path))
		return false;
	return readlink(path, target, sizeof(target)) > 0;
}

static unsigned long attr_num(struct udev_device *dev, const char *attr, bool *ok)
{
	const char *v = udev_device_get_sysattr_value(dev, attr);
	char *end;
	unsigned long n;

	*ok = false;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 0);
	while (*end == '\n' || *end == ' ')
		end++;
	*ok = !errno && end != v && !*end;
	return n;
}

/* Chipsets whose interrupt remapping is broken (the oVirt SR-IOV page's lspci check:
 * 8086:3403/3406 rev 13, 8086:3405 rev 12/13/22; lspci prints revisions in hex). */
static bool remapping_broken(unsigned long vendor, unsigned long device, unsigned long rev)
{
	if (vendor != 0x8086)
		return false;
	if (device == 0x3403 || device == 0x3406)
		return rev == 0x13;
	if (device == 0x3405)
		return rev == 0x12 || rev == 0x13 || rev == 0x22;
	return false;
}

static void check_pf(struct doctor *d, struct udev_device *dev, unsigned long vendor,
		     unsigned long device)
{
	const char *addr = udev_device_get_sysname(dev);
	const char *driver = udev_device_get_driver(dev);
	unsigned long total, num;
	bool ok_total, ok_num;

	total = attr_num(dev, "sriov_totalvfs", &ok_total);
	num = attr_num(dev, "sriov_numvfs", &ok_num);
	if (!driver)
		report(d, DOCTOR_WARN, "pf", "%s (%04lx:%04lx): no driver bound, VFs cannot be "
		       "enabled", addr, vendor, device);
	else if (!ok_total || total == 0)
		report(d, DOCTOR_WARN, "pf", "%s (%04lx:%04lx, %s): SR-IOV capability reports no "
		       "VFs (sriov_totalvfs unreadable or 0)", addr, vendor, device, driver);
	else
		report(d, DOCTOR_PASS, "pf", "%s (%04lx:%04lx, %s): SR-IOV, %lu VFs supported, %lu "
		       "enabled", addr, vendor, device, driver, total, ok_num ? num : 0);
}

static int scan(struct doctor *d, struct udev *udev)
{
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *le;
	unsigned grouped = 0, pfs = 0, broken = 0;
	struct udev_device *vfio;

	if (!e || udev_enumerate_add_match_subsystem(e, "pci") < 0 ||
	    udev_enumerate_scan_devices(e) < 0) {
		report(d, DOCTOR_ERROR, "pci", "cannot list PCI devices: %s", strerror(errno));
		udev_enumerate_unref(e);
		return -1;
	}
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(e)) {
		struct udev_device *dev = udev_device_new_from_syspath(udev,
								      udev_list_entry_get_name(le));
		unsigned long vendor, device, rev;
		bool ok_v, ok_d, ok_r;

		if (!dev)
			continue;
		grouped += has_link(dev, "iommu_group");
		vendor = attr_num(dev, "vendor", &ok_v);
		device = attr_num(dev, "device", &ok_d);
		rev = attr_num(dev, "revision", &ok_r);
		if (ok_v && ok_d && ok_r && remapping_broken(vendor, device, rev)) {
			broken++;
			report(d, DOCTOR_WARN, "interrupt-remapping", "%s (%04lx:%04lx rev %02lx): "
			       "interrupt remapping is broken on this chipset; to assign devices anyway "
			       "add vfio_iommu_type1.allow_unsafe_interrupts=1 to the kernel command "
			       "line", udev_device_get_sysname(dev), vendor, device, rev);
		}
		if (udev_device_get_sysattr_value(dev, "sriov_totalvfs")) {
			pfs++;
			check_pf(d, dev, vendor, device);
		}
		udev_device_unref(dev);
	}
	udev_enumerate_unref(e);

	if (grouped)
		report(d, DOCTOR_PASS, "iommu", "enabled, %u PCI devices in IOMMU groups", grouped);
	else
		report(d, DOCTOR_FAIL, "iommu", "no IOMMU groups: enable the IOMMU in the firmware "
		       "and on the kernel command line (intel_iommu=on or amd_iommu=on)");
	if (!broken)
		report(d, DOCTOR_PASS, "interrupt-remapping", "no chipset with known broken "
		       "interrupt remapping");
	if (!pfs)
		report(d, DOCTOR_WARN, "sriov", "no SR-IOV capable PCI device (none has "
		       "sriov_totalvfs)");
	vfio = udev_device_new_from_subsystem_sysname(udev, "drivers", "pci:vfio-pci");
	if (vfio)
		report(d, DOCTOR_PASS, "vfio-pci", "driver registered");
	else
		report(d, DOCTOR_WARN, "vfio-pci", "driver not loaded: VFs cannot be assigned to VMs "
		       "until `modprobe vfio-pci`");
	udev_device_unref(vfio);
	return 0;
}

int vfpoolctl_doctor_run(vfpoolctl_doctor_fn fn, void *userdata)
{
	struct doctor d = { .fn = fn, .userdata = userdata, .status = DOCTOR_PASS };
	struct udev *udev = udev_new();

	if (!udev) {
		report(&d, DOCTOR_ERROR, "udev", "cannot create a libudev context: %s",
		       strerror(errno));
		return d.status;
	}
	scan(&d, udev);
	udev_unref(udev);
	return d.status;
}

static void print_check(void *userdata, enum vfpoolctl_doctor_status status, const char *check,
			const char *detail)
{
	fprintf(userdata, "%s %s: %s\n", vfpoolctl_doctor_tag(status), check, detail);
}

int vfpoolctl_doctor(FILE *out)
{
	return vfpoolctl_doctor_run(print_check, out);
}
