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
};

/* "dddd:bb:ss.f" with every part in range; -EINVAL otherwise. */
int pci_address_parse(const char *s, struct pci_address *ret_addr);
/* -EINVAL (and nothing written) when the lease's PCI address does not parse. */
int format_lease_libvirt(FILE *f, const struct lease_view *v);
int format_lease_qemu(FILE *f, const struct lease_view *v);

#endif
