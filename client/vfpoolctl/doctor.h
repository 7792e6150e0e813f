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
};

/* Prints one line per check ("PASS|WARN|FAIL <check>: <detail>") to out and returns the
 * worst status, usable as the exit status: 0 pass, 1 warn, 2 fail. */
int vfpoolctl_doctor(FILE *out);

struct vfpool_snapshot;

/* The checks that need the daemon's view (a running vfpoold's snapshot), same output: a
 * "vf" line per VF that is up on the host without a lease (WARN: allocatable while the host
 * may use it, or host-busy under --busy-when-up), or one PASS line. */
int vfpoolctl_doctor_vfs(const struct vfpool_snapshot *s, FILE *out);

#endif
