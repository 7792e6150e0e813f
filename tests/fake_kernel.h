/* SPDX-License-Identifier: MIT */
/* The kernel's side of a sriov_numvfs write, played on a umockdev testbed: what the daemon
 * wrote is read back from the testbed, VFs are removed or created at the routing IDs the
 * PF's sriov_offset/sriov_stride give, with their virtfnN/physfn links and uevents. */
#ifndef VFPOOL_TESTS_FAKE_KERNEL_H
#define VFPOOL_TESTS_FAKE_KERNEL_H

#include <umockdev.h>

/* pf_syspath: "/sys/devices/...". Applies the value now in the PF's sriov_numvfs. */
void fake_kernel_apply(UMockdevTestbed *tb, const char *pf_syspath);

/* A thread applying every write to the given PFs' sriov_numvfs as it is closed. */
struct fake_kernel;
struct fake_kernel *fake_kernel_start(UMockdevTestbed *tb, const char *const *pf_syspaths,
				      size_t n);
/* Stops the thread; returns how many writes it saw on pf_syspaths[i] via writes[i]. */
void fake_kernel_stop(struct fake_kernel *k, unsigned *writes);

/* The same, with the values written to pf_syspaths[i]'s sriov_numvfs, in order and
 * space-separated, in values[i] ("0 4"; "" when nothing was written). A value is read
 * when the fake kernel wakes for a write: two writes the daemon makes back to back (0,
 * then N, with no VF to wait for between them) read as "N N", or as "N" once inotify
 * merged the two events. */
#define FAKE_KERNEL_VALUES_MAX 128
void fake_kernel_stop_values(struct fake_kernel *k, char (*values)[FAKE_KERNEL_VALUES_MAX]);

#endif
