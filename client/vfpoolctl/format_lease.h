/* SPDX-License-Identifier: MIT */
/* A lease as the text a launcher pastes: libvirt <interface> XML or a QEMU -device argument. */
#ifndef VFPOOL_VFPOOLCTL_FORMAT_LEASE_H
#define VFPOOL_VFPOOLCTL_FORMAT_LEASE_H

#include <stdint.h>
#include <stdio.h>

struct pci_address {
	unsigned domain, bus, slot, function;
};

struct lease_view {
	const char *pci_addr;  /* "dddd:bb:ss.f" */
	const uint8_t *mac;    /* 6 bytes, or NULL: libvirt then picks one */
	unsigned vlan;         /* 0: untagged, no <vlan> element */
	const char *vfio_group; /* "/dev/vfio/12": vfpoold bound the VF to vfio-pci; or NULL */
};

/* "dddd:bb:ss.f" with every part in range; -EINVAL otherwise. */
int pci_address_parse(const char *s, struct pci_address *ret_addr);
/* -EINVAL (and nothing written) when the lease's PCI address does not parse. */
/* libvirt binds a managed='yes' hostdev itself: managed='no' when vfpoold has (vfio_group),
 * with the group named in a comment. */
int format_lease_libvirt(FILE *f, const struct lease_view *v);
/* QEMU's vfio-pci finds and opens the VF's group itself (/dev/vfio/<group>, beside
 * /dev/vfio/vfio): the argument is the same either way; with vfio_group the device's id
 * names the group (id=vfio12), so a launcher that grants the VM process access to the group
 * reads it off the argument, and a VF vfpoold did not bind (no group) gets no id. */
int format_lease_qemu(FILE *f, const struct lease_view *v);

#endif
