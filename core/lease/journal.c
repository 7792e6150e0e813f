/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/base/array.h"
#include "core/lease/journal.h"

#define MAP_MIN (1u << 20) /* a mapped journal's first size; it doubles from there */
#define MAP_COMPACT_MIN (8u << 20)
#define SPARE_MAX       (2 * (size_t)MAP_COMPACT_MIN) /* a larger file is not kept as spare */
#define RESERVE_STEP (1u << 20) /* a written journal's reservation grows by this much */
#define PAGE 4096u

static void publish_size(struct journal *j)
{
	if (j->stat_bytes)
		/* relaxed: a statistic; nothing is ordered against it */
		atomic_store_explicit(j->stat_bytes, j->size, memory_order_relaxed);
}

void journal_set_stat(struct journal *j, _Atomic uint64_t *stat)
{
	j->stat_bytes = stat;
	publish_size(j);
}

static int read_all(int fd, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = off;
	return 0;
}

/* write(2) the whole buffer at offset, synchronously: only for the snapshot file that
 * nobody reads until it is renamed in */
static int pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int map_reserve(struct journal *j, size_t need);

/* Where the next staged record will land in the file: after what is durable, what is
 * being written, and what is staged (the CRC covers the offset) */
static uint64_t stage_off(const struct journal *j)
{
	return j->size + j->inflight_len + j->pending_len;
}

/* Room for need more staged bytes; returns where they go and, in *ret_cap, how many fit.
 * A mapped journal stages straight into the file's mapping, right after what is durable:
 * a record is encoded once, where it stays (journal_append_mapped only moves the durable
 * size over it). A record found there after a crash was never acknowledged: restoring it
 * is what a retry of its request would have done. */
static uint8_t *stage(struct journal *j, size_t need, size_t *ret_cap, int *ret_err)
{
	if (j->in_memory) {
		*ret_err = map_reserve(j, (size_t)stage_off(j) + need);
		if (*ret_err)
			return NULL;
		*ret_cap = j->map_cap - (size_t)stage_off(j);
		if ((size_t)stage_off(j) + need > j->map_dirty)
			j->map_dirty = (size_t)stage_off(j) + need;
		return j->map + stage_off(j);
	}
	*ret_err = array_reserve(j->pending, j->pending_cap, j->pending_len + need, 4096);
	if (*ret_err)
		return NULL;
	*ret_cap = j->pending_cap - j->pending_len;
	return j->pending + j->pending_len;
}

int journal_stage_add(struct journal *j, const struct journal_lease *l)
{
	size_t cap;
	int r;
	uint8_t *buf = stage(j, JOURNAL_ADD_SIZE, &cap, &r);

	if (!buf)
		return r;
	r = journal_encode_add(l, stage_off(j), buf, cap);
	if (r < 0)
		return r;
	j->pending_len += (size_t)r;
	return 0;
}

int journal_stage_del(struct journal *j, uint32_t slot, uint64_t generation)
{
	size_t cap;
	int r;
	uint8_t *buf = stage(j, JOURNAL_DEL_SIZE, &cap, &r);

	if (!buf)
		return r;
	r = journal_encode_del(slot, generation, stage_off(j), buf, cap);
	if (r < 0)
		return r;
	j->pending_len += (size_t)r;
	return 0;
}

int journal_stage_gen(struct journal *j, uint64_t high)
{
	size_t cap;
	int r;
	uint8_t *buf = stage(j, JOURNAL_GEN_SIZE, &cap, &r);

	if (!buf)
		return r;
	r = journal_encode_gen(high, stage_off(j), buf, cap);
	if (r < 0)
		return r;
	j->pending_len += (size_t)r;
	return 0;
}

/* Stages a copy of rec (a visitor for journal_scan_records) */
static int restage(void *ctx, const struct journal_rec *rec)
{
	struct journal *j = ctx;

	switch (rec->type) {
	case JOURNAL_LEASE_ADD:
		return journal_stage_add(j, &rec->lease);
	case JOURNAL_LEASE_DEL:
		return journal_stage_del(j, rec->lease.slot, rec->lease.generation);
	case JOURNAL_GEN_MARK:
		return journal_stage_gen(j, rec->lease.generation);
	}
	return 0;
}

bool journal_has_pending(const struct journal *j)
{
	return j->pending_len != 0;
}

/* One linked write + fdatasync through the journal's ring; waits for both. */
static int uring_write_sync(struct journal *j, const uint8_t *buf, size_t len, uint64_t off)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int res[2] = { -ECANCELED, -ECANCELED }, r;

	sqe = io_uring_get_sqe(&j->ring);
	io_uring_prep_write(sqe, j->fd, buf, (unsigned)len, off);
	sqe->flags |= IOSQE_IO_LINK; /* the fsync runs only after the whole write succeeded */
	io_uring_sqe_set_data64(sqe, 0);
	sqe = io_uring_get_sqe(&j->ring);
	io_uring_prep_fsync(sqe, j->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, 1);
	r = io_uring_submit(&j->ring);
	if (r < 0)
		return r;
	for (int got = 0; got < 2; got++) {
		do {
			r = io_uring_wait_cqe(&j->ring, &cqe);
		} while (r == -EINTR);
		if (r < 0)
			return r;
		res[io_uring_cqe_get_data64(cqe) & 1] = cqe->res;
		io_uring_cqe_seen(&j->ring, cqe);
	}
	if (res[0] < 0)
		return res[0];
	if ((size_t)res[0] != len)
		return -EIO; /* a short write cancels the linked fsync: nothing is durable */
	return res[1] < 0 ? res[1] : 0;
}

int journal_commit(struct journal *j)
{
	int r;

	if (j->in_memory)
		return journal_append_mapped(j);
	if (!j->pending_len)
		return 0;
	r = uring_write_sync(j, j->pending, j->pending_len, j->size);
	if (r)
		return r;
	j->size += j->pending_len;
	j->pending_len = 0;
	j->appends++;
	publish_size(j);
	return 0;
}

int journal_commit_begin(struct journal *j, const uint8_t **ret_buf, size_t *ret_len,
			 uint64_t *ret_off)
{
	uint8_t *buf = j->inflight;
	size_t cap = j->inflight_cap;

	if (j->inflight_len)
		return -EBUSY;
	if (!j->pending_len)
		return -ENODATA;
	/* swap buffers: staging continues into the other one while this one is written */
	j->inflight = j->pending;
	j->inflight_cap = j->pending_cap;
	j->inflight_len = j->pending_len;
	j->pending = buf;
	j->pending_cap = cap;
	j->pending_len = 0;
	*ret_buf = j->inflight;
	*ret_len = j->inflight_len;
	*ret_off = j->size;
	return 0;
}

void journal_commit_end(struct journal *j, int res)
{
	if (res)
		return; /* the records stay in flight for journal_commit_refused */
	j->size += j->inflight_len;
	j->inflight_len = 0;
	j->appends++;
	publish_size(j);
}

int journal_short_write_error(struct journal *j, size_t done)
{
	ssize_t n;

	if (done >= j->inflight_len)
		return -EIO;
	/* the rest, written again: the error the kernel had no way to return with the part
	 * that went through (journal_commit_refused cuts the file back either way) */
	do {
		n = pwrite(j->fd, j->inflight + done, j->inflight_len - done,
			   (off_t)(j->size + done));
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : -EIO;
}

struct refused_ctx {
	struct journal *j;
	journal_visit_fn visit;
	void *ctx;
};

static int refused_rec(void *p, const struct journal_rec *rec)
{
	struct refused_ctx *c = p;
	int r = c->visit ? c->visit(c->ctx, rec) : 0;

	if (r < 0)
		return r;
	/* an ADD that was not written is undone by the caller; a release already happened in
	 * memory, so its record must still reach the file */
	return rec->type == JOURNAL_LEASE_ADD ? 0 : restage(c->j, rec);
}

int journal_commit_refused(struct journal *j, journal_visit_fn visit, void *ctx)
{
	uint8_t *failed = j->inflight, *later = j->pending;
	size_t failed_len = j->inflight_len, later_len = j->pending_len;
	struct refused_ctx c = { .j = j, .visit = visit, .ctx = ctx };
	int r;

	/* whatever part of the write reached the file must not be read back as records:
	 * complete ones among them would be resynchronised to at the next start */
	if (!j->in_memory && ftruncate(j->fd, (off_t)j->size) < 0)
		return -errno;
	if (!j->in_memory)
		j->reserved = j->size; /* the blocks past the end went with the truncate */
	/* every record is encoded again: its offset (in its CRC) moves */
	j->inflight = NULL;
	j->inflight_len = j->inflight_cap = 0;
	j->pending = NULL;
	j->pending_len = j->pending_cap = 0;
	r = journal_scan_records(failed, failed_len, j->size, refused_rec, &c);
	if (!r)
		r = journal_scan_records(later, later_len, j->size + failed_len, restage, j);
	free(failed);
	free(later);
	return r;
}

bool journal_wants_compaction(const struct journal *j, uint32_t n_live)
{
	uint64_t live = JOURNAL_HDR_SIZE + (uint64_t)n_live * JOURNAL_ADD_SIZE;

	if (live < JOURNAL_COMPACT_MIN)
		live = JOURNAL_COMPACT_MIN;
	/* a mapped journal lives in memory: compacting (a new file, its pages faulted in
	 * again) below a few MiB costs more on the request path than the space it saves */
	if (j->in_memory && live * JOURNAL_COMPACT_FACTOR < MAP_COMPACT_MIN)
		return j->size > MAP_COMPACT_MIN;
	return j->size > JOURNAL_COMPACT_FACTOR * live;
}

static bool on_tmpfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* What must stay allocated beyond the records: one more lease (or a chain's worth), a
 * generation mark or two, and a delete record for every lease, so a release never needs
 * space that is not there */
static uint64_t room_for(uint32_t n_live)
{
	return ((uint64_t)n_live + 1) * JOURNAL_DEL_SIZE +
	       (uint64_t)VFPOOL_CHAIN_MAX * JOURNAL_ADD_SIZE + 2u * JOURNAL_GEN_SIZE;
}

static bool out_of_space(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

/* Allocates fd's blocks over [off, off + len): 0, or -errno (-EOPNOTSUPP: the file system
 * cannot). keep_size: without growing the file (a written journal's size is its data). */
static int allocate(int fd, uint64_t off, uint64_t len, bool keep_size)
{
	int r;

	do {
		r = fallocate(fd, keep_size ? FALLOC_FL_KEEP_SIZE : 0, (off_t)off, (off_t)len);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Reserves a written journal's space up to at least need bytes: a growth step first, then
 * just what is needed when the step does not fit. */
static int reserve_to(struct journal *j, uint64_t need)
{
	uint64_t want;
	int r;

	if (j->no_reserve || need <= j->reserved)
		return 0;
	want = page_up(need > j->reserved + RESERVE_STEP ? need : j->reserved + RESERVE_STEP);
	r = allocate(j->fd, j->reserved, want - j->reserved, true);
	if (r && out_of_space(-r)) {
		want = page_up(need);
		r = allocate(j->fd, j->reserved, want - j->reserved, true);
	}
	if (r == -EOPNOTSUPP) {
		/* nothing to reserve with: a full disk shows at write time, and the write's
		 * failure refuses what it carried (journal_commit_refused) */
		j->no_reserve = true;
		return 0;
	}
	if (r)
		return r;
	j->reserved = want;
	return 0;
}

/* Allocates a mapped journal's file up to cap bytes (the file grows with zeros, which the
 * reader takes as the clean end), or up to need when cap does not fit. Every page of the
 * mapping is then backed: a store into it cannot fault for want of space (SIGBUS). Returns
 * the size allocated, or -errno. */
static int64_t allocate_mapped(struct journal *j, int fd, uint64_t cap, uint64_t need)
{
	int r = allocate(fd, 0, cap, false);

	if (r && out_of_space(-r) && page_up(need) < cap) {
		cap = page_up(need);
		r = allocate(fd, 0, cap, false);
	}
	if (r == -EOPNOTSUPP) {
		/* ramfs: no limit but memory; growing the file is all there is to do */
		j->no_reserve = true;
		r = ftruncate(fd, (off_t)cap) < 0 ? -errno : 0;
	}
	return r ? r : (int64_t)cap;
}

static void spare_drop(struct journal *j)
{
	if (j->spare_fd < 0)
		return;
	munmap(j->spare_map, j->spare_cap);
	close(j->spare_fd);
	unlinkat(j->dir_fd, JOURNAL_TMP_FILE, 0);
	j->spare_fd = -1;
	j->spare_map = NULL;
	j->spare_cap = j->spare_dirty = 0;
}

/* (Re)maps the journal file with room for at least need bytes */
static int map_reserve(struct journal *j, size_t need)
{
	size_t cap = j->map_cap ? j->map_cap : MAP_MIN;
	int64_t got;
	void *m;

	if (j->map && need <= j->map_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	got = allocate_mapped(j, j->fd, cap, need);
	if (got < 0 && out_of_space((int)-got) && j->spare_fd >= 0) {
		spare_drop(j); /* the journal's own space comes first */
		got = allocate_mapped(j, j->fd, cap, need);
	}
	if (got < 0)
		return (int)got;
	cap = (size_t)got;
	/* populated: a fault per new page would land on a lease request's path */
	m = j->map ? mremap(j->map, j->map_cap, cap, MREMAP_MAYMOVE)
		   : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, j->fd, 0);
	if (m != MAP_FAILED && j->map && cap > j->map_cap)
		madvise((uint8_t *)m + j->map_cap, cap - j->map_cap, MADV_POPULATE_WRITE);
	if (m == MAP_FAILED)
		return -errno;
	j->map = m;
	j->map_cap = cap;
	j->reserved = cap;
	return 0;
}

static void map_drop(struct journal *j)
{
	if (j->map)
		munmap(j->map, j->map_cap);
	j->map = NULL;
	j->map_cap = 0;
	j->map_dirty = 0;
}

int journal_room(struct journal *j, uint32_t n_live)
{
	uint64_t need = j->size + j->inflight_len + j->pending_len + room_for(n_live);

	return j->in_memory ? map_reserve(j, need) : reserve_to(j, need);
}

int journal_append_mapped(struct journal *j)
{
	if (!j->in_memory)
		return -EOPNOTSUPP;
	if (!j->pending_len)
		return 0;
	/* the records are in the mapping already (stage): a kill while one was encoded left
	 * a record whose trailer is still zero, a torn tail */
	j->size += j->pending_len;
	j->pending_len = 0;
	j->appends++;
	publish_size(j);
	return 0;
}

/* The snapshot file: created anew (never through a name someone else left there), with its
 * space reserved before a byte is written. Returns the fd and the bytes reserved. */
static int create_snapshot(struct journal *j, const uint8_t *buf, size_t len, uint64_t need,
			   uint64_t *ret_reserved)
{
	int64_t got;
	int fd, r;

	if (unlinkat(j->dir_fd, JOURNAL_TMP_FILE, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(j->dir_fd, JOURNAL_TMP_FILE,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (j->in_memory) {
		uint64_t cap = MAP_MIN;

		while (cap < need)
			cap *= 2;
		got = allocate_mapped(j, fd, cap, need);
	} else {
		r = allocate(fd, 0, page_up(need), true);
		got = r == -EOPNOTSUPP ? (int64_t)len : r ? r : (int64_t)page_up(need);
	}
	r = got < 0 ? (int)got : pwrite_all(fd, buf, len, 0);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (r) {
		close(fd);
		unlinkat(j->dir_fd, JOURNAL_TMP_FILE, 0);
		return r;
	}
	*ret_reserved = (uint64_t)got;
	return fd;
}

/* Before the rename that commits a compaction: a mapped journal about to be replaced gets
 * a second name (JOURNAL_OLD_FILE), so that it can be kept as the spare after it. A crash
 * leaves that name behind, never read (journal_open removes it). false: not kept. */
static bool spare_link_old(struct journal *j)
{
	if (!j->in_memory || !j->map || j->map_cap > SPARE_MAX)
		return false;
	if (unlinkat(j->dir_fd, JOURNAL_OLD_FILE, 0) < 0 && errno != ENOENT)
		return false;
	return linkat(j->dir_fd, JOURNAL_FILE, j->dir_fd, JOURNAL_OLD_FILE, 0) == 0;
}

/* After the rename: the replaced file (fd, map) becomes the spare, named JOURNAL_TMP_FILE
 * (free now: the new journal had it), or is let go. */
static void spare_keep_old(struct journal *j, bool linked, int fd, uint8_t *map, size_t cap,
			   size_t dirty)
{
	if (linked && renameat(j->dir_fd, JOURNAL_OLD_FILE, j->dir_fd, JOURNAL_TMP_FILE) == 0) {
		j->spare_fd = fd;
		j->spare_map = map;
		j->spare_cap = cap;
		j->spare_dirty = dirty;
		return;
	}
	if (linked)
		unlinkat(j->dir_fd, JOURNAL_OLD_FILE, 0);
	if (map)
		munmap(map, cap);
	close(fd);
}

/* The snapshot in the spare: what was ever written of it zeroed (a stale record at the
 * offset it was written at would pass its CRC: the reader must find the zeros of a clean
 * end), the snapshot copied, the file synced, as create_snapshot's. */
static int fill_spare(struct journal *j, const uint8_t *buf, size_t len)
{
	memcpy(j->spare_map, buf, len);
	if (j->spare_dirty > len)
		memset(j->spare_map + len, 0, j->spare_dirty - len);
	j->spare_dirty = len;
	return fsync(j->spare_fd) < 0 ? -errno : 0;
}

int journal_compact(struct journal *j, const struct journal_lease *live, uint32_t n_live,
		    uint64_t gen_high)
{
	size_t len = JOURNAL_HDR_SIZE + JOURNAL_GEN_SIZE + (size_t)n_live * JOURNAL_ADD_SIZE, off;
	uint64_t reserved = 0;
	uint8_t *buf, *new_map = NULL;
	size_t new_cap = 0;
	bool linked;
	int fd, r;

	if (j->pending_len || j->inflight_len)
		return -EBUSY;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	journal_encode_header(buf);
	off = JOURNAL_HDR_SIZE;
	if (gen_high) /* 0: nothing was ever handed out */
		off += (size_t)journal_encode_gen(gen_high, off, buf + off, len - off);
	for (uint32_t i = 0; i < n_live; i++)
		off += (size_t)journal_encode_add(&live[i], off, buf + off, len - off);
	if (j->spare_fd >= 0 && (j->spare_cap < off + room_for(n_live) ||
				 fill_spare(j, buf, off) < 0))
		spare_drop(j); /* too small, or it failed: a new file, as without one */
	if (j->spare_fd >= 0) {
		fd = j->spare_fd;
		new_map = j->spare_map;
		new_cap = reserved = j->spare_cap;
		j->spare_fd = -1; /* the new journal's from here on */
		j->spare_map = NULL;
		j->spare_cap = j->spare_dirty = 0;
	} else {
		fd = create_snapshot(j, buf, off, off + room_for(n_live), &reserved);
	}
	free(buf);
	if (fd < 0)
		return fd;
	linked = spare_link_old(j);
	/* the rename is the commit point: before it the old journal stands, after it (once
	 * the directory is synced) the new one */
	r = renameat(j->dir_fd, JOURNAL_TMP_FILE, j->dir_fd, JOURNAL_FILE) < 0 ? -errno : 0;
	if (r) {
		if (linked)
			unlinkat(j->dir_fd, JOURNAL_OLD_FILE, 0);
		if (new_map)
			munmap(new_map, new_cap);
		close(fd);
		unlinkat(j->dir_fd, JOURNAL_TMP_FILE, 0);
		return r;
	}
	spare_keep_old(j, linked, j->fd, j->map, j->map_cap, j->map_dirty);
	j->map = NULL;
	j->map_cap = j->map_dirty = 0;
	j->fd = fd;
	j->size = off;
	j->reserved = reserved;
	j->compactions++;
	publish_size(j);
	if (new_map) {
		j->map = new_map;
		j->map_cap = new_cap;
	} else if (j->in_memory) {
		/* the new file's space is allocated already */
		r = map_reserve(j, reserved);
		if (r)
			return r;
	}
	j->map_dirty = off;
	return fsync(j->dir_fd) < 0 ? -errno : 0;
}

/* Keeps the damaged journal as leases.journal.corrupt.<UTC time>: a hard link (no copy,
 * no space), or a copy where links are not allowed; a name that exists is never reused. */
static int keep_aside(struct journal *j, const uint8_t *buf, size_t len)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	bool copy = false, kept = false;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned k = 0; k < 100 && !kept; k++) {
		int fd, r;

		snprintf(j->aside, sizeof(j->aside), k ? "%s%s-%u" : "%s%s", JOURNAL_CORRUPT_PREFIX,
			 stamp, k);
		if (!copy) {
			kept = linkat(j->dir_fd, JOURNAL_FILE, j->dir_fd, j->aside, 0) == 0;
			if (kept)
				break;
			if (errno == EEXIST)
				continue;
			if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK) {
				r = -errno;
				j->aside[0] = '\0';
				return r;
			}
			copy = true;
		}
		fd = openat(j->dir_fd, j->aside,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		r = fd < 0 ? -errno : pwrite_all(fd, buf, len, 0);
		if (!r && fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
		if (r) {
			if (fd >= 0)
				unlinkat(j->dir_fd, j->aside, 0);
			j->aside[0] = '\0';
			return r;
		}
		kept = true;
	}
	if (!kept) {
		j->aside[0] = '\0';
		return -EEXIST; /* a hundred copies in this second: keep the journal in place */
	}
	if (fsync(j->dir_fd) < 0) {
		int r = -errno;

		j->aside[0] = '\0';
		return r;
	}
	return 0;
}

/* Keeps the file as it is up to j->size, without the bytes of a record cut short after it
 * (an append would leave them behind the new records). Needs no space: a written journal
 * is shortened, a mapped one's torn record (at most one) zeroed in place. */
static int cut_tail(struct journal *j, size_t len)
{
	if (j->size < len && !j->in_memory && ftruncate(j->fd, (off_t)j->size) < 0)
		return -errno;
	if (j->size < len && j->in_memory) {
		static const uint8_t zeros[JOURNAL_REC_SIZE(JOURNAL_PAYLOAD_MAX)];
		size_t n = len - j->size < sizeof(zeros) ? len - j->size : sizeof(zeros);
		int r = pwrite_all(j->fd, zeros, n, (off_t)j->size);

		if (r)
			return r;
	}
	return j->in_memory ? map_reserve(j, j->size) : 0;
}

int journal_open(const char *dir, struct journal_live *ret_live,
		 struct journal_scan_result *ret_scan, struct journal **ret_journal)
{
	struct journal *j = calloc(1, sizeof(*j));
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	bool damaged, rewrite, in_place_ok;
	int r;

	journal_live_init(ret_live);
	if (!j)
		return -ENOMEM;
	j->fd = j->dir_fd = j->spare_fd = -1;
	if (snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_FILE) >= (int)sizeof(j->path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->dir_fd < 0) {
		r = -errno;
		goto fail;
	}
	/* a compaction's second name for the journal it replaced, left by a crash: never read */
	unlinkat(j->dir_fd, JOURNAL_OLD_FILE, 0);
	j->fd = openat(j->dir_fd, JOURNAL_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(j->fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL; /* not a journal anyone wrote; never read from a FIFO or a device */
		goto fail;
	}
	r = io_uring_queue_init(4, &j->ring, 0);
	if (r)
		goto fail;
	j->ring_ready = true;
	r = read_all(j->fd, &buf, &len);
	if (r)
		goto fail;
	r = journal_scan(buf, len, journal_live_apply, ret_live, ret_scan);
	if (r)
		goto fail;
	damaged = ret_scan->lost || ret_scan->header_damaged;
	if (damaged) {
		/* what the damage hid may have handed out generations above every one still
		 * readable: skip a block for each record lost, and one more */
		ret_live->gen_high += (ret_scan->lost + 1) * (uint64_t)JOURNAL_GEN_BLOCK;
	}
	/* a new journal, or one whose tail cannot be trusted: appends resume after the last
	 * intact record */
	j->size = ret_scan->good_bytes ? ret_scan->good_bytes : len;
	j->reserved = j->size;
	j->in_memory = on_tmpfs(j->fd);
	/* a v2 file whose header and records up to good_bytes are sound can stay in place
	 * (damage and all) when it cannot be kept aside or rewritten; a new, cut or v1 one
	 * cannot */
	in_place_ok = ret_scan->version == JOURNAL_VERSION &&
		      ret_scan->good_bytes >= JOURNAL_HDR_SIZE;
	rewrite = len == 0 || ret_scan->stop || ret_scan->version != JOURNAL_VERSION;
	if (damaged && (r = keep_aside(j, buf, len)) < 0) {
		/* the evidence stays where it is, in the journal: read around again next time */
		if (!in_place_ok)
			goto fail;
		j->aside_err = r;
		rewrite = false;
	}
	if (rewrite) {
		r = journal_compact(j, ret_live->leases, ret_live->n, ret_live->gen_high);
		if (r && !in_place_ok)
			goto fail;
		/* a full disk must not keep the daemon from starting after a crash: the torn
		 * bytes are cut instead, which needs no space */
		j->compact_err = r;
		rewrite = r == 0;
	}
	if (!rewrite) {
		r = cut_tail(j, len);
		if (r)
			goto fail;
	}
	free(buf);
	buf = NULL;
	r = journal_room(j, ret_live->n);
	if (r)
		goto fail;
	*ret_journal = j;
	return 0;
fail:
	free(buf);
	journal_live_fini(ret_live);
	journal_close(j);
	return r;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->ring_ready)
		io_uring_queue_exit(&j->ring);
	map_drop(j);
	spare_drop(j);
	if (j->fd >= 0)
		close(j->fd);
	if (j->dir_fd >= 0)
		close(j->dir_fd);
	free(j->pending);
	free(j->inflight);
	free(j);
}
