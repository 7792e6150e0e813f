/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`: the command around the checks of doctor.c (local, no daemon needed)
 * and, when vfpoold runs, doctor_vfs.c's of its view. */
#include <stdio.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/doctor.h"

int cmd_doctor(const struct ctl_opts *o)
{
	if (o->argc != 0) {
		fprintf(stderr, "vfpoolctl doctor: takes no arguments\n");
		return CTL_EXIT_USAGE;
	}
	struct vfpool_snapshot *s;
	int status, vfs;

	/* the doctor's own scale: 0 pass, 1 warn, 2 fail */
	status = vfpoolctl_doctor(stdout);
	/* without a running daemon there is no view to check: the host checks stand alone */
	if (vfpool_snapshot_take(o->run_dir, &s) == 0) {
		vfs = vfpoolctl_doctor_vfs(s, stdout);
		status = vfs > status ? vfs : status;
		vfpool_snapshot_free(s);
	}
	return status;
}
