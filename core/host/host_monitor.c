/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libudev.h>

#include "core/host/host_monitor.h"
#include "core/host/udev_attr.h"

const char *host_change_kind_name(enum host_change_kind kind)
{
	static const char *const names[] = {
		[HOST_VF_ADDED] = "vf-added",
		[HOST_VF_REMOVED] = "vf-removed",
		[HOST_VF_DRIVER_CHANGED] = "vf-driver-changed",
		[HOST_PF_ADDED] = "pf-added",
		[HOST_PF_REMOVED] = "pf-removed",
		[HOST_PF_DRIVER_CHANGED] = "pf-driver-changed",
		[HOST_PF_CHANGED] = "pf-changed",
		[HOST_PCI_REMOVED] = "pci-removed",
		[HOST_NETDEV_ADDED] = "netdev-added",
		[HOST_NETDEV_REMOVED] = "netdev-removed",
		[HOST_NETDEV_RENAMED] = "netdev-renamed",
		[HOST_PCI_ADDED] = "pci-added",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "unknown";
	return names[kind];
}

int host_monitor_new(struct udev *udev, struct udev_monitor **ret_monitor)
{
	struct udev_monitor *m;
	int r;

	errno = 0;
	m = udev_monitor_new_from_netlink(udev, "udev");
	if (!m)
		return uattr_errno(errno, ENOMEM);
	r = udev_monitor_filter_add_match_subsystem_devtype(m, "pci", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(m, "net", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(m);
	if (r < 0) {
		udev_monitor_unref(m);
		return r;
	}
	*ret_monitor = m;
	return 0;
}

/* dddd:bb:dd.f, hex digits: the only shape a PCI device's sysname has. */
static bool is_pci_addr(const char *s, size_t n)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (n != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

static int copy_pci_addr(char dst[VFPOOL_PCI_ADDR_MAX], const char *s, size_t n)
{
	if (!is_pci_addr(s, n))
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int decode_pci(struct udev_device *dev, const char *action, struct host_change *c)
{
	const char *sysname = udev_device_get_sysname(dev);
	bool is_vf;

	if (!sysname || copy_pci_addr(c->pci_addr, sysname, strlen(sysname)) < 0)
		return -EINVAL;
	if (strcmp(action, "remove") == 0) {
		c->kind = HOST_PCI_REMOVED;
		return 0;
	}
	/* the device exists for every other action, so its links say what it is */
	is_vf = uattr_link_name(dev, "physfn", c->pf_addr, sizeof(c->pf_addr)) == 0;
	if (!is_vf && !udev_device_get_sysattr_value(dev, "sriov_totalvfs")) {
		/* perhaps a VF whose physfn link the kernel has not made yet */
		if (strcmp(action, "add") != 0)
			return -ENOENT;
		c->kind = HOST_PCI_ADDED;
		return 0;
	}
	if (strcmp(action, "add") == 0) {
		c->kind = is_vf ? HOST_VF_ADDED : HOST_PF_ADDED;
	} else if (strcmp(action, "bind") == 0 || strcmp(action, "unbind") == 0) {
		const char *drv = action[0] == 'b' ? udev_device_get_driver(dev) : NULL;

		c->kind = is_vf ? HOST_VF_DRIVER_CHANGED : HOST_PF_DRIVER_CHANGED;
		if (drv && uattr_copy(c->driver, sizeof(c->driver), drv) < 0)
			return -EINVAL;
	} else if (strcmp(action, "change") == 0 && !is_vf) {
		c->kind = HOST_PF_CHANGED;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* The PCI device of a netdev is the devpath element before "/net/<name>": taken from the
 * event itself, since on removal neither the netdev nor its parent may be left in sysfs. */
static int net_pci_parent(const char *devpath, char dst[VFPOOL_PCI_ADDR_MAX])
{
	const char *net = NULL, *p, *start;

	for (p = strstr(devpath, "/net/"); p; p = strstr(p + 1, "/net/"))
		net = p;
	if (!net)
		return -EINVAL;
	for (start = net; start > devpath && start[-1] != '/'; start--)
		;
	/* virtual netdevs (bonds, bridges, VLANs) sit under /devices/virtual: not ours */
	if (copy_pci_addr(dst, start, (size_t)(net - start)) < 0)
		return -ENOENT;
	return 0;
}

static int decode_net(struct udev_device *dev, const char *action, struct host_change *c)
{
	const char *devpath = udev_device_get_devpath(dev);
	const char *name = udev_device_get_property_value(dev, "INTERFACE");
	int r;

	if (!devpath)
		return -EINVAL;
	r = net_pci_parent(devpath, c->pci_addr);
	if (r < 0)
		return r;
	if (!name)
		name = udev_device_get_sysname(dev);
	if (!name || uattr_copy(c->netdev, sizeof(c->netdev), name) < 0)
		return -EINVAL;
	if (strcmp(action, "add") == 0) {
		c->kind = HOST_NETDEV_ADDED;
	} else if (strcmp(action, "remove") == 0) {
		c->kind = HOST_NETDEV_REMOVED;
	} else if (strcmp(action, "move") == 0) {
		const char *old = udev_device_get_property_value(dev, "DEVPATH_OLD");
		const char *base = old ? strrchr(old, '/') : NULL;

		c->kind = HOST_NETDEV_RENAMED;
		if (base && uattr_copy(c->old_netdev, sizeof(c->old_netdev), base + 1) < 0)
			return -EINVAL;
	} else {
		return -ENOENT;
	}
	return 0;
}

int host_change_from_udev(struct udev_device *dev, struct host_change *ret)
{
	struct host_change c = { 0 };
	const char *action, *subsystem;
	int r;

	if (!dev || !ret)
		return -EINVAL;
	action = udev_device_get_action(dev);
	subsystem = udev_device_get_subsystem(dev);
	if (!action || !subsystem)
		return -EINVAL;
	if (strcmp(subsystem, "pci") == 0)
		r = decode_pci(dev, action, &c);
	else if (strcmp(subsystem, "net") == 0)
		r = decode_net(dev, action, &c);
	else
		r = -ENOENT;
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int host_change_recheck(struct udev *udev, const char *pci_addr, struct host_change *ret)
{
	struct host_change c = { 0 };
	struct udev_device *dev;
	bool is_vf;

	if (!udev || !pci_addr || copy_pci_addr(c.pci_addr, pci_addr, strlen(pci_addr)) < 0 ||
	    !ret)
		return -EINVAL;
	errno = 0;
	dev = udev_device_new_from_subsystem_sysname(udev, "pci", pci_addr);
	if (!dev)
		return errno && errno != ENOENT ? -errno : -ENODEV;
	is_vf = uattr_link_name(dev, "physfn", c.pf_addr, sizeof(c.pf_addr)) == 0;
	if (is_vf)
		c.kind = HOST_VF_ADDED;
	else if (udev_device_get_sysattr_value(dev, "sriov_totalvfs"))
		c.kind = HOST_PF_ADDED;
	udev_device_unref(dev);
	if (!is_vf && c.kind != HOST_PF_ADDED)
		return -EAGAIN;
	*ret = c;
	return 0;
}

int host_change_resolve(const struct host *host, struct host_change *change)
{
	if (change->kind != HOST_PCI_REMOVED)
		return 0;
	for (size_t i = 0; i < host->n_vfs; i++)
		if (strcmp(host->vfs[i].pci_addr, change->pci_addr) == 0) {
			change->kind = HOST_VF_REMOVED;
			memcpy(change->pf_addr, host->pfs[host->vfs[i].pf].pci_addr,
			       sizeof(change->pf_addr));
			return 0;
		}
	for (size_t i = 0; i < host->n_pfs; i++)
		if (strcmp(host->pfs[i].pci_addr, change->pci_addr) == 0) {
			change->kind = HOST_PF_REMOVED;
			return 0;
		}
	return -ENOENT;
}
