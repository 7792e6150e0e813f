/* SPDX-License-Identifier: MIT */
/*
 * Changing and persisting a PF's number of VFs (sriov_numvfs), the oVirt way: write 0,
 * then N; on success persist N under <state-dir>/virtual_functions/<pci-address>; on
 * failure write back the last known value and report both outcomes. PFs with no persisted
 * file were never configured through vfpool: unmanaged, never written, never restored.
 *
 * Three parts: the store (numvfs_store.c), the non-blocking change (numvfs_op.c) driven by
 * the daemon's loop, and the synchronous boot-time restore (numvfs_restore.c) that drives
 * the same change with plain libc writes and a udev monitor.
 */
#ifndef VFPOOL_CORE_NUMVFS_H
#define VFPOOL_CORE_NUMVFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/model/host.h"
#include "core/host/host_monitor.h"

#define NUMVFS_DIR "virtual_functions"
#define NUMVFS_DEFAULT_TIMEOUT_MS (120u * 1000u)
#define NUMVFS_MAX 65535u /* TotalVFs is a 16-bit field of the SR-IOV capability */

/* ---- the store ------------------------------------------------------------------------ */

struct numvfs_entry {
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	unsigned n;
};

/* Atomically records n for pci (temp file, fsync, rename, fsync of the directory); creates
 * <state_dir>/virtual_functions if needed. -EINVAL for a name that is not a PCI address. */
int numvfs_store_save(const char *state_dir, const char *pci, unsigned n);

/* -ENOENT: unmanaged. -EBADMSG: the file is not trusted (why names it and says what it is:
 * a symlink, a FIFO or anything but a regular file, too large, not one decimal number).
 * Never blocks and never follows a link. */
int numvfs_store_load(const char *state_dir, const char *pci, unsigned *ret_n, char *why,
		      size_t why_len);

/* A store file that is not trusted, and why (the why names the file). */
struct numvfs_bad_entry {
	char name[256]; /* its name in the directory */
	char why[384];
	int err;        /* -EBADMSG mostly; an I/O error otherwise */
};

/* Every managed PF whose file is trusted, ascending by address, in *ret_entries; and every
 * file that is not (a stray name, a symlink, a FIFO, a corrupt number, ...) in *ret_bad,
 * so one bad file costs its own PF and never the others'. Both malloc'd (caller frees;
 * NULL when empty). An absent directory is two empty lists. Fails (-errno, why) only when
 * the directory itself cannot be read, or out of memory. */
int numvfs_store_list(const char *state_dir, struct numvfs_entry **ret_entries, size_t *ret_n,
		      struct numvfs_bad_entry **ret_bad, size_t *ret_n_bad, char *why,
		      size_t why_len);

/* ---- the changes in flight ---------------------------------------------------------------- */

/* A change is journaled before its first write to sriov_numvfs, as
 * <state_dir>/numvfs_changes/<pci-address> holding "FROM TO BOOT_ID\n" (the kernel's count
 * when it started, the count asked, the boot it was made in), and cleared once its outcome
 * is persisted. One left behind is
 * a change whose daemon died in flight: the next start finishes or rolls it back
 * (core/numvfs/numvfs_cmd.h). */
#define NUMVFS_INTENT_DIR "numvfs_changes"

#define NUMVFS_BOOT_ID_MAX 40 /* /proc/sys/kernel/random/boot_id: a UUID */

struct numvfs_intent {
	char pci_addr[VFPOOL_PCI_ADDR_MAX];
	unsigned from, to;
	char boot_id[NUMVFS_BOOT_ID_MAX]; /* the boot it was made in; "" when unknown */
};

/* This boot's id; -errno when it cannot be read. */
int numvfs_boot_id(char buf[NUMVFS_BOOT_ID_MAX]);

/* Atomically (temp file, fsync, rename, fsync of the directory), creating the directory. */
int numvfs_intent_save(const char *state_dir, const char *pci, unsigned from, unsigned to);
/* Removes it, durably; 0 when there was none. */
int numvfs_intent_clear(const char *state_dir, const char *pci);
/* Every change in flight (malloc'd; NULL when none), and every file that is not one
 * (trusted only as the store's files are) in *ret_bad. */
int numvfs_intent_list(const char *state_dir, struct numvfs_intent **ret_intents, size_t *ret_n,
		       struct numvfs_bad_entry **ret_bad, size_t *ret_n_bad);

/* ---- validation ----------------------------------------------------------------------- */

/* Why one VF is not free, as the daemon knows it (leased, host-busy, bound by another
 * party, dirty): "leased by vm1/nic0", "host-busy (mvt0 (macvtap) on top)"; "" when free. */
struct numvfs_vf_use {
	char why[160];
};

/* May numvfs of host->pfs[pf] become n? -ERANGE unless 0 <= n <= sriov_totalvfs; -EBUSY
 * while any of its VFs is not free: uses has one entry per host->vfs entry (NULL: only the
 * model's bound_other is known). A change destroys every VF of the PF, so one VF the host
 * or a VM uses is enough to refuse it. why names each, as far as why_len allows:
 * "ens1f0: 2 of 8 VFs in use: 0000:3b:02.0 leased by vm1/nic0; 0000:3b:02.2 bound to
 * vfio-pci by another party". A VF whose IOMMU group is shared is unallocatable but used by
 * nobody for that: it does not block (a PF behind a port without ACS shares one group with
 * all its VFs, and could never be changed). */
int numvfs_check_request(const struct host *host, uint32_t pf, unsigned n,
			 const struct numvfs_vf_use *uses, char *why, size_t why_len);

/* ---- the change, as a state machine --------------------------------------------------- */

enum numvfs_state {
	NUMVFS_WRITE_ZERO, /* "0" is to be written */
	NUMVFS_WAIT_GONE,  /* until the PF's VFs have gone (remove events or a rescan) */
	NUMVFS_WRITE_N,    /* the target is to be written */
	NUMVFS_WAIT_VFS,   /* until target VFs have appeared (add events or a rescan) */
	NUMVFS_DONE,       /* the target is in place */
	NUMVFS_FAILED,     /* see numvfs_op_result(): rolled back or not */
};

enum numvfs_action_kind {
	NUMVFS_ACT_WRITE,    /* write value to sriov_numvfs, then numvfs_op_write_done() */
	NUMVFS_ACT_WAIT,     /* feed udev changes / rescans; numvfs_op_timeout() on expiry */
	NUMVFS_ACT_FINISHED, /* numvfs_op_result() */
};

struct numvfs_action {
	enum numvfs_action_kind kind;
	unsigned value;      /* WRITE: the number to write */
	uint32_t timeout_ms; /* WRITE, WAIT: arm a timer for this step when the step is new */
	uint32_t step;       /* changes on every transition; inputs for an old step are stale */
};

struct numvfs_op;

/* A change of host->pfs[pf] to n; the PF's current num_vfs is the last known value, the
 * one written back on failure. The kernel refuses N over M (both non-zero), so the op
 * writes 0 first; from 0 VFs it writes only n, and 0 to 0 is finished at once (nothing to
 * write). timeout_ms 0 means NUMVFS_DEFAULT_TIMEOUT_MS; it bounds each
 * write and each wait. The op copies what it needs; the host may be freed afterwards. */
int numvfs_op_new(const struct host *host, uint32_t pf, unsigned n, uint32_t timeout_ms,
		  struct numvfs_op **ret_op);
void numvfs_op_free(struct numvfs_op *op);

/* Pure: the same action until an input is accepted. */
void numvfs_op_next_action(const struct numvfs_op *op, struct numvfs_action *ret_action);
enum numvfs_state numvfs_op_state(const struct numvfs_op *op);
bool numvfs_op_rolling_back(const struct numvfs_op *op);
const char *numvfs_op_pf(const struct numvfs_op *op);
unsigned numvfs_op_target(const struct numvfs_op *op);

/* Inputs. Each returns 0 when it moved the op, -ESTALE for an input of an earlier step,
 * -ENOENT for a change that is not about this PF, -EINVAL when no such input is awaited.
 * result: what write(2) returned (bytes, or -errno). A write in flight when its timeout
 * fires may still complete: it then arrives stale and is ignored. */
int numvfs_op_write_done(struct numvfs_op *op, uint32_t step, long result);
int numvfs_op_observe(struct numvfs_op *op, const struct host_change *change);
/* A rescan: the PF's VFs are exactly those in host (e.g. after a monitor overflow). */
int numvfs_op_observe_host(struct numvfs_op *op, const struct host *host);
int numvfs_op_timeout(struct numvfs_op *op, uint32_t step);

/* After FINISHED: 0 on success, else the first failure's negative errno. The message
 * names the PF and, on failure, the reason and what became of the write-back:
 * "0000:3b:00.0: writing sriov_numvfs=8 failed: Device or resource busy; restored 4". */
int numvfs_op_result(const struct numvfs_op *op, const char **ret_message);
/* After a failure: the last known value was written back, the kernel is as it was. */
bool numvfs_op_restored(const struct numvfs_op *op);

/* ---- boot-time restore ---------------------------------------------------------------- */

struct numvfs_restore_opts {
	uint32_t timeout_ms; /* each step of each PF's change; 0: NUMVFS_DEFAULT_TIMEOUT_MS */
	uint32_t wait_ms;    /* how long PFs not present yet are waited for; 0: not at all */
	FILE *progress;      /* NULL, or where "waiting up to ... for PF(s)" is said at once */
};

/* For `vfpoold --restore-numvfs`: every persisted PF gets its value (0 first when it has
 * VFs), waiting on a udev monitor for its VFs. A persisted PF that is not there yet, or
 * has no driver yet (drivers that probe late, a card that appears later), is waited for
 * on the same monitor (never by sleeping) up to opts->wait_ms, each PF restored as soon as
 * it is ready. PFs without a file are not touched. A file that is not trusted is reported
 * and skipped; every other PF is still restored. 0 when all were restored; otherwise the
 * first failure's negative errno. *ret_report (malloc'd, caller frees; set even on failure
 * when not NULL) has one line per PF or untrusted file saying what happened to it (the
 * untrusted files first). opts NULL: the defaults, no waiting. */
int numvfs_restore_all(struct udev *udev, const char *state_dir,
		       const struct numvfs_restore_opts *opts, char **ret_report);

#endif
