/* SPDX-License-Identifier: MIT */
/*
 * Host discovery through libudev: every PCI device with sriov_totalvfs is a PF (bond slaves
 * included: bonding does not change the PCI side), its VFs are the targets of its virtfnN
 * links that point back through physfn, and an IOMMU group's members are all PCI devices
 * whose iommu_group link names it. Runs unchanged on the real /sys and on a umockdev
 * testbed.
 */
#ifndef VFPOOL_CORE_HOST_UDEV_H
#define VFPOOL_CORE_HOST_UDEV_H

#include "core/model/host.h"

struct udev;

/* Fills a new struct host (free with host_free()). PFs ascend by PCI address, VFs are
 * grouped by PF in ascending vf_index, groups ascend by number and cover every VF's group.
 * A VF bound to a passthrough driver has bound_other set: discovery cannot see leases, the
 * pool owner clears it for the VFs it bound itself. A host without PFs is not an error. */
int host_discover(struct udev *udev, struct host **ret_host);

#endif
