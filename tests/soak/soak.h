/* SPDX-License-Identifier: MIT */
/*
 * vfpool-soak: N well-behaved client processes run random operations (alloc, multi-vNIC
 * alloc, release, hot plug, unplug) next to hostile ones that abuse their own rings
 * (malformed chains, random bytes in entries, indices and header, dying with a chain half
 * published, doorbell storms), while the harness SIGKILLs clients, hostile clients and the
 * daemon and restarts the daemon in the same run dir. Each well-behaved client writes what
 * it was told to a log (one line per fact, written with one write(2), so a SIGKILL never
 * leaves half a line). A killed client's log is checked against the daemon right away and
 * its VM's leases are then released by the operator's `lease gc` (the pool never runs dry);
 * at the end every log is checked against the snapshot and, after one more SIGKILL and
 * restart, against what the journal gives back; every daemon's stderr is scanned for
 * sanitizer reports (`make soak SAN=asan` runs the ASan+UBSan daemon).
 */
#ifndef VFPOOL_TESTS_SOAK_H
#define VFPOOL_TESTS_SOAK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SOAK_VNICS 6 /* vNICs per client VM: nic0..nic5 */

/* Counters every process of the soak adds to (a MAP_SHARED page set up before the forks):
 * a hostile client can die at any instruction, so it counts as it goes. */
struct soak_counts {
	_Atomic uint64_t hostile_entries;   /* request entries published by hostile clients */
	_Atomic uint64_t malformed_chains;  /* chains whose shape or content is not allowed */
	_Atomic uint64_t scribbles;         /* random bytes written over indices or header */
	_Atomic uint64_t summary_scribbles; /* runs of wrong bits in the pending summary */
	_Atomic uint64_t midchain_deaths;   /* SIGKILLed themselves with a chain half published */
	_Atomic uint64_t hostile_connects;
};

/* Runs one client until deadline_ns (CLOCK_MONOTONIC); never returns. Log lines:
 *   B vnic            an operation on vnic begins (no answer yet: outcome unknown)
 *   A vnic pci gen [E] vnic holds this lease (acknowledged; E: it already held it)
 *   R vnic            vnic holds no lease (acknowledged release, or none to release)
 *   F vnic            the operation failed with a definite answer: nothing changed
 *   U vnic            no definite answer (the daemon stayed away): outcome unknown */
void soak_client_main(const char *run_dir, const char *log_path, const char *vm,
		      unsigned seed, uint64_t deadline_ns) __attribute__((noreturn));

/* Runs one hostile client until deadline_ns; never returns (it may SIGKILL itself). Its
 * VMs are "hostile0".."hostile3" with vNICs h0..h3: what it leases stays bounded, and
 * nothing it sends names a well-behaved client's VM. */
void soak_hostile_main(const char *run_dir, unsigned seed, uint64_t deadline_ns,
		       struct soak_counts *counts) __attribute__((noreturn));

struct soak_result {
	unsigned passed, failed;
	uint64_t leases_checked; /* acknowledged leases compared with what the daemon holds */
};

/* One well-behaved client incarnation. */
struct soak_log {
	char *path;
	char *vm;
	bool retired;   /* killed, checked, and its VM's leases released by `lease gc` */
	bool read_once; /* its log's history was checked (once is enough: it only grows) */
	/* vNICs with an operation in flight when it was retired: its outcome may still land */
	bool pending_at_retire[SOAK_VNICS];
};

/* Checks the invariants for logs[0..n) against the daemon serving run_dir: every lease a
 * live log says it holds is held (same VF, same generation), every acknowledged release
 * stays released, a retired VM holds nothing, no VF is held by two logs, and each log's
 * history never saw a lease vanish (an allocation of a vNIC that holds a lease must find
 * that same lease). Prints one line per failure. */
void soak_check(const char *run_dir, struct soak_log *logs, unsigned n,
		struct soak_result *res);
/* The same for one killed client before its VM is released; false if its check failed. */
bool soak_check_retiring(const char *run_dir, struct soak_log *log, struct soak_result *res);
/* Snapshot's leases as "vm vnic pci gen" lines, sorted; caller frees. NULL on error. */
char *soak_lease_table(const char *run_dir);

uint64_t soak_now_ns(void);

#endif
