/* SPDX-License-Identifier: MIT */
/*
 * Decoding udev monitor events (subsystems pci and net) into the changes the pool cares
 * about. The loop owner creates the monitor (host_monitor_new()), polls its fd, calls
 * udev_monitor_receive_device() and hands each device here; nothing in this file blocks.
 *
 * A removal carries no sysfs: the device's directory is gone by the time the event is read,
 * so a PCI removal decodes to HOST_PCI_REMOVED (address only) and host_change_resolve()
 * turns it into HOST_VF_REMOVED or HOST_PF_REMOVED against the current host model.
 */
#ifndef VFPOOL_CORE_HOST_MONITOR_H
#define VFPOOL_CORE_HOST_MONITOR_H

#include "core/model/host.h"

struct udev;
struct udev_device;
struct udev_monitor;

enum host_change_kind {
	HOST_VF_ADDED,          /* pci_addr, pf_addr */
	HOST_VF_REMOVED,        /* pci_addr, pf_addr (after host_change_resolve) */
	HOST_VF_DRIVER_CHANGED, /* pci_addr, pf_addr, driver ("" after unbind) */
	HOST_PF_ADDED,          /* pci_addr */
	HOST_PF_REMOVED,        /* pci_addr (after host_change_resolve) */
	HOST_PF_DRIVER_CHANGED, /* pci_addr, driver */
	HOST_PF_CHANGED,        /* pci_addr: a "change" event, e.g. sriov_numvfs written */
	HOST_PCI_REMOVED,       /* pci_addr: some PCI device went away; see above */
	HOST_NETDEV_ADDED,      /* pci_addr (the netdev's device), netdev */
	HOST_NETDEV_REMOVED,    /* pci_addr, netdev */
	HOST_NETDEV_RENAMED,    /* pci_addr, netdev (new), old_netdev ("" if not carried) */
	HOST_PCI_ADDED,         /* pci_addr: a PCI device that is neither a PF nor, yet, a VF;
				 * see host_change_recheck() */
};

struct host_change {
	enum host_change_kind kind;
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	char pf_addr[VFPOOL_PCI_ADDR_MAX];
	char driver[VFPOOL_DRIVER_MAX];
	char netdev[VFPOOL_IFNAME_MAX];
	char old_netdev[VFPOOL_IFNAME_MAX];
};

const char *host_change_kind_name(enum host_change_kind kind);

/* A udev monitor filtered to pci and net, receiving, non-blocking (from libudev). */
int host_monitor_new(struct udev *udev, struct udev_monitor **ret_monitor);

/* 0 and *ret for a relevant event; -ENOENT for an event about something that is not
 * SR-IOV (a non-PF PCI device, a virtual netdev), -EINVAL for an event without an action
 * or a name that cannot be a PCI address. */
int host_change_from_udev(struct udev_device *dev, struct host_change *ret);

/* The kernel announces a new VF (KOBJ_ADD, in pci_device_add) before it links it to its
 * PF (physfn, virtfnN: pci_iov_sysfs_link): a listener that decodes the event before the
 * links exist sees a PCI device that is neither a PF nor a VF (HOST_PCI_ADDED). Decoding
 * it again once the links exist (a later event, or once the sriov_numvfs write returned)
 * gives HOST_VF_ADDED (or HOST_PF_ADDED) in *ret; -EAGAIN while it is still neither,
 * -ENODEV when it is gone. */
int host_change_recheck(struct udev *udev, const char *pci_addr, struct host_change *ret);

/* Classifies a HOST_PCI_REMOVED against the model: VF (pf_addr filled) or PF. Other kinds
 * are left as they are. -ENOENT when the device is not one of the host's. */
int host_change_resolve(const struct host *host, struct host_change *change);

#endif
