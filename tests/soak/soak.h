/* SPDX-License-Identifier: MIT */
/*
 * vfpool-soak: N client processes run random operations (alloc, multi-vNIC alloc, release,
 * hot plug, unplug) while the harness SIGKILLs clients and the daemon and restarts the
 * daemon in the same run dir. Each client writes what it was told to a log (one line per
 * fact, written with one write(2), so a SIGKILL never leaves half a line); at the end the
 * invariants are checked against the snapshot and, after one more SIGKILL and restart,
 * against what the journal gives back.
 */
#ifndef VFPOOL_TESTS_SOAK_H
#define VFPOOL_TESTS_SOAK_H

#include <stdbool.h>
#include <stdint.h>

#define SOAK_VNICS 6 /* vNICs per client VM: nic0..nic5 */

/* Runs one client until deadline_ns (CLOCK_MONOTONIC); never returns. Log lines:
 *   B vnic            an operation on vnic begins (no answer yet: outcome unknown)
 *   A vnic pci gen    vnic holds this lease (acknowledged)
 *   R vnic            vnic holds no lease (acknowledged release, or none to release)
 *   F vnic            the operation failed with a definite answer: nothing changed
 *   U vnic            no definite answer (the daemon stayed away): outcome unknown */
void soak_client_main(const char *run_dir, const char *log_path, const char *vm,
		      unsigned seed, uint64_t deadline_ns) __attribute__((noreturn));

struct soak_result {
	unsigned passed, failed;
};

/* Checks the invariants for the client logs log_paths[0..n) (client i ran VM vms[i]) against
 * the daemon serving run_dir. Prints one line per failure. */
void soak_check(const char *run_dir, char **log_paths, char **vms, unsigned n,
		struct soak_result *res);
/* Snapshot's leases as "vm vnic pci gen" lines, sorted; caller frees. NULL on error. */
char *soak_lease_table(const char *run_dir);

uint64_t soak_now_ns(void);

#endif
