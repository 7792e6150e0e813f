/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`'s checks of the daemon's view: VFs that are up on the host, not
 * leased. */
#include <stdio.h>

#include "client/vfpoolctl/doctor.h"
#include "vfpool/vfpool.h"

int vfpoolctl_doctor_vfs(const struct vfpool_snapshot *s, FILE *out)
{
	unsigned n = vfpool_snapshot_vf_count(s), up = 0, existing = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vfpool_vf_info v;

		if (vfpool_snapshot_vf(s, i, &v) < 0 || v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		existing++;
		if (v.status == VFPOOL_VF_STATUS_LEASED || v.host_use != VFPOOL_VF_USE_UP)
			continue;
		up++;
		if (v.status == VFPOOL_VF_STATUS_FREE)
			fprintf(out, "WARN vf: %s (%s): up on the host, not leased: allocatable while "
				"the host may be using it; bring it down (ip link set %s down) or run "
				"vfpoold with --busy-when-up\n", v.pci_addr, v.netdev, v.netdev);
		else
			fprintf(out, "WARN vf: %s (%s): up on the host, not leased: host-busy "
				"(vfpoold --busy-when-up) until it is brought down\n", v.pci_addr,
				v.netdev);
	}
	if (up)
		return DOCTOR_WARN;
	fprintf(out, "PASS vf: no VF is up on the host without a lease (%u VFs)\n", existing);
	return DOCTOR_PASS;
}
