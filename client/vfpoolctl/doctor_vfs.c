/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`'s checks of the daemon's view: VFs that are up on the host, not
 * leased. */
#include <stdio.h>

#include "client/vfpoolctl/doctor.h"
#include "vfpool/vfpool.h"

int vfpoolctl_doctor_vfs(const struct vfpool_snapshot *s, vfpoolctl_doctor_fn fn,
			 void *userdata)
{
	unsigned n = vfpool_snapshot_vf_count(s), up = 0, existing = 0;
	char detail[512];

	for (unsigned i = 0; i < n; i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) < 0 || v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		existing++;
		if (v.status == VFPOOL_VF_STATUS_LEASED || v.host_use != VFPOOL_VF_USE_UP)
			continue;
		up++;
		if (v.status == VFPOOL_VF_STATUS_FREE)
			snprintf(detail, sizeof(detail), "%s (%s): up on the host, not leased: "
				 "allocatable while the host may be using it; bring it down (ip link "
				 "set %s down) or run vfpoold with --busy-when-up", v.pci_addr,
				 v.netdev, v.netdev);
		else
			snprintf(detail, sizeof(detail), "%s (%s): up on the host, not leased: "
				 "host-busy (vfpoold --busy-when-up) until it is brought down",
				 v.pci_addr, v.netdev);
		fn(userdata, DOCTOR_WARN, "vf", detail);
	}
	if (up)
		return DOCTOR_WARN;
	snprintf(detail, sizeof(detail), "no VF is up on the host without a lease (%u VFs)",
		 existing);
	fn(userdata, DOCTOR_PASS, "vf", detail);
	return DOCTOR_PASS;
}
