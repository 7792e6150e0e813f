/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/vfpoolctl/format_lease.h"

int pci_address_parse(const char *s, struct pci_address *ret_addr)
{
	struct pci_address a;
	int end = 0;

	/* %n after the last field: nothing may follow the function number */
	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &a.domain, &a.bus, &a.slot, &a.function, &end) != 4 ||
	    s[end] != '\0' || a.slot > 0x1f || a.function > 7)
		return -EINVAL;
	*ret_addr = a;
	return 0;
}

int format_lease_libvirt(FILE *f, const struct lease_view *v)
{
	struct pci_address a;

	if (pci_address_parse(v->pci_addr, &a))
		return -EINVAL;
	/* managed='yes': libvirt binds the VF to vfio-pci at start and back at shutdown;
	 * 'no' when vfpoold bound it already (and gives it back at release) */
	fprintf(f, "<interface type='hostdev' managed='%s'>\n", v->vfio_group ? "no" : "yes");
	if (v->vfio_group)
		fprintf(f, "  <!-- bound to vfio-pci by vfpoold: VFIO group %s -->\n",
			v->vfio_group);
	if (v->mac)
		fprintf(f, "  <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n", v->mac[0], v->mac[1],
			v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
	fprintf(f, "  <source>\n"
		   "    <address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
		   "function='0x%x'/>\n"
		   "  </source>\n", a.domain, a.bus, a.slot, a.function);
	if (v->vlan)
		fprintf(f, "  <vlan>\n    <tag id='%u'/>\n  </vlan>\n", v->vlan);
	fprintf(f, "</interface>\n");
	return 0;
}

int format_lease_qemu(FILE *f, const struct lease_view *v)
{
	struct pci_address a;

	if (pci_address_parse(v->pci_addr, &a))
		return -EINVAL;
	fprintf(f, "-device vfio-pci,host=%04x:%02x:%02x.%x", a.domain, a.bus, a.slot,
		a.function);
	if (v->vfio_group && strncmp(v->vfio_group, "/dev/vfio/", 10) == 0 &&
	    strspn(v->vfio_group + 10, "0123456789") == strlen(v->vfio_group + 10) &&
	    v->vfio_group[10])
		fprintf(f, ",id=vfio%s", v->vfio_group + 10);
	fputc('\n', f);
	return 0;
}
