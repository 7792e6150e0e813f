/* SPDX-License-Identifier: MIT */
/* `vfpoolctl doctor`: can this host do SR-IOV passthrough? A check of the host itself
 * through libudev, independent of the daemon and of pool discovery. */
#ifndef VFPOOL_CTL_DOCTOR_H
#define VFPOOL_CTL_DOCTOR_H

#include <stdio.h>

enum vfpoolctl_doctor_status {
	DOCTOR_PASS = 0,
	DOCTOR_WARN = 1,
	DOCTOR_FAIL = 2,
	DOCTOR_ERROR = 3, /* the host could not be checked (libudev failed) */
};

/* Runs every check, telling fn of each (check: "iommu", "pf", ...; detail: what was found
 * and what to do), and returns the worst status. */
typedef void (*vfpoolctl_doctor_fn)(void *userdata, enum vfpoolctl_doctor_status status,
				    const char *check, const char *detail);
int vfpoolctl_doctor_run(vfpoolctl_doctor_fn fn, void *userdata);

/* The same, one line per check ("PASS|WARN|FAIL <check>: <detail>") on out. */
int vfpoolctl_doctor(FILE *out);
const char *vfpoolctl_doctor_tag(enum vfpoolctl_doctor_status status);

struct vfpool_snapshot;

/* The checks that need the daemon's view (a running vfpoold's snapshot), told to fn like
 * the others: a "vf" WARN per VF that is up on the host without a lease (allocatable while
 * the host may use it, or host-busy under --busy-when-up), or one PASS. Returns the worst
 * status. */
int vfpoolctl_doctor_vfs(const struct vfpool_snapshot *s, vfpoolctl_doctor_fn fn,
			 void *userdata);

#endif
