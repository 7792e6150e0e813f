/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`: the command around the checks of doctor.c (local, no daemon needed). */
#include <stdio.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/doctor.h"

int cmd_doctor(const struct ctl_opts *o)
{
	if (o->argc != 0) {
		fprintf(stderr, "vfpoolctl doctor: takes no arguments\n");
		return CTL_EXIT_USAGE;
	}
	/* the doctor's own scale: 0 pass, 1 warn, 2 fail */
	return vfpoolctl_doctor(stdout);
}
