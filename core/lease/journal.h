/* SPDX-License-Identifier: MIT */
/*
 * The lease journal: <state-dir>/leases.journal, append-only (format: core/lease/journal_format.h).
 * Every lease change is staged here, then committed (one write + one fdatasync, linked,
 * through a private io_uring) before any client hears of it: a group commit per served
 * batch. When the file grows past JOURNAL_COMPACT_FACTOR times what the live leases need,
 * it is rewritten as a snapshot of them (temp file, fsync, rename, fsync of the directory),
 * so a crash at any point leaves either the old journal or the new one, whole. A mapped
 * (tmpfs) journal keeps the file a compaction replaced as the next compaction's temp file
 * (zeroed where it was written, then filled): steady churn allocates, maps and frees no
 * pages.
 *
 * Space is reserved before it is needed (fallocate), never found missing at write time: a
 * mapped journal past its reservation would fault with SIGBUS, a written one fail after the
 * change was made. journal_room says whether one more lease fits, with room kept for a
 * delete record for every live lease, so releases never need space that is not there.
 *
 * Every file is opened relative to the directory's descriptor, without following links.
 * Loop-thread only.
 */
#ifndef VFPOOL_CORE_JOURNAL_H
#define VFPOOL_CORE_JOURNAL_H

#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/lease/journal_format.h"

#define JOURNAL_FILE           "leases.journal"
#define JOURNAL_TMP_FILE       "leases.journal.tmp"
#define JOURNAL_OLD_FILE       "leases.journal.old" /* a mapped compaction's second name */
#define JOURNAL_CORRUPT_PREFIX "leases.journal.corrupt."
#define JOURNAL_COMPACT_FACTOR 4u
#define JOURNAL_COMPACT_MIN    (64u * 1024u) /* never compact a journal smaller than this */

struct journal {
	int fd;
	int dir_fd;
	char path[4096];
	uint64_t size;       /* bytes durable on disk */
	uint64_t reserved;   /* bytes with space allocated (>= size unless no_reserve) */
	bool no_reserve;     /* the file system cannot reserve (no fallocate): found at write */
	char aside[64];      /* a damaged journal kept aside at open (JOURNAL_CORRUPT_PREFIX...) */
	int aside_err;       /* why a damaged journal could not be kept aside (then: in place) */
	int compact_err;     /* why it could not be rewritten at open (then: in place) */
	uint8_t *pending;    /* staged records, not yet written */
	size_t pending_len, pending_cap;
	uint8_t *inflight;   /* records being written (journal_commit_begin .. _end) */
	size_t inflight_len, inflight_cap;
	uint64_t compactions;
	uint64_t appends;    /* group commits that landed: mapped appends, write+fsync pairs */
	_Atomic uint64_t *stat_bytes; /* the state segment's journal_bytes, or NULL */
	struct io_uring ring;
	bool ring_ready;
	/* On tmpfs (the run dir of a real host) records are appended through a shared
	 * mapping: a memcpy, no syscall. That is as durable as the file can be there: the
	 * page cache outlives the daemon, nothing outlives a reboot, and fsync adds nothing. */
	bool in_memory;
	uint8_t *map;
	size_t map_cap;
	size_t map_dirty; /* bytes of map ever written (records staged, a snapshot) */
	/* A mapped journal's previous file, kept by a compaction (named JOURNAL_TMP_FILE) to
	 * be the next one's: its pages stay allocated and mapped, so a compaction in steady
	 * churn zeroes what was written and copies the snapshot, and allocates, populates and
	 * frees nothing (each of which cost milliseconds per MiB on the serve path). -1: none. */
	int spare_fd;
	uint8_t *spare_map;
	size_t spare_cap, spare_dirty;
};

/* Opens (creating if needed) dir/leases.journal and replays it into *ret_live (initialised
 * here; the caller finishes it). *ret_scan says how the read ended: damage is not an error
 * (the live set is what the intact records say). A damaged journal is first kept aside
 * (hard-linked, or copied, to leases.journal.corrupt.<UTC time>, never overwriting one;
 * j->aside names it), then it, a torn one and a version 1 one are rewritten from the live
 * set (gen_high: the generation mark to carry over), so nothing untrusted stays behind. A
 * damaged journal that cannot be kept aside is not rewritten. -EPROTONOSUPPORT: a newer
 * daemon's journal, left untouched. */
int journal_open(const char *dir, struct journal_live *ret_live,
		 struct journal_scan_result *ret_scan, struct journal **ret_journal);
void journal_close(struct journal *j);

/* Publishes the durable size to *stat (relaxed stores: a statistic for ops tools). */
void journal_set_stat(struct journal *j, _Atomic uint64_t *stat);

/* Stage records (memory only); -ENOMEM. */
int journal_stage_add(struct journal *j, const struct journal_lease *l);
int journal_stage_del(struct journal *j, uint32_t slot, uint64_t generation);
int journal_stage_gen(struct journal *j, uint64_t high);
bool journal_has_pending(const struct journal *j);

/* Makes sure one more lease, and a delete record for it and each of the n_live leases,
 * fit in space already allocated; grows the reservation if not. 0, or -errno (-ENOSPC,
 * -EDQUOT, ...): then the lease must not be made. */
int journal_room(struct journal *j, uint32_t n_live);

/* In-memory journals only: the staged records, already encoded in place in the mapping,
 * become the journal's (its durable size moves over them): one append for however many
 * were staged. Once it returns 0 they survive the daemon's death. */
int journal_append_mapped(struct journal *j);

/* Makes the staged records durable: write at the end + fdatasync, linked. 0 or -errno;
 * on failure the staged records stay staged and nothing may be acknowledged. */
int journal_commit(struct journal *j);

/* The asynchronous commit, for the loop: begin takes the staged records as the buffer to
 * write at *ret_off (then fdatasync); end(res) records the outcome (0: durable; on error the
 * records are not, and the caller must not acknowledge them). One commit at a time. After a
 * failed write (not a failed fsync: then nothing is known), journal_commit_refused cuts the
 * file back to its durable size, hands every record of the failed write to visit and stages
 * the delete and generation records again, ahead of what was staged meanwhile; 0 or -errno.
 */
int journal_commit_begin(struct journal *j, const uint8_t **ret_buf, size_t *ret_len,
			 uint64_t *ret_off);
void journal_commit_end(struct journal *j, int res);
int journal_commit_refused(struct journal *j, journal_visit_fn visit, void *ctx);
/* A write that stopped after done bytes: why (the rest written again; a negative errno,
 * -EIO when it went through this time). */
int journal_short_write_error(struct journal *j, size_t done);

/* True when the file is past JOURNAL_COMPACT_FACTOR times the size of n_live leases. */
bool journal_wants_compaction(const struct journal *j, uint32_t n_live);
/* Rewrites the journal as a generation mark (gen_high) and exactly these leases (nothing
 * may be staged), with the room journal_room keeps reserved. 0 or -errno; on failure the
 * old journal is intact and still in use. */
int journal_compact(struct journal *j, const struct journal_lease *live, uint32_t n_live,
		    uint64_t gen_high);

#endif
