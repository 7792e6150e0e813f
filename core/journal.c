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
#include <unistd.h>

#include "core/journal.h"

#define MAP_MIN (1u << 20) /* a mapped journal's first size; it doubles from there */
#define MAP_COMPACT_MIN (8u << 20)

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

static int stage(struct journal *j, size_t need)
{
	if (j->pending_len + need <= j->pending_cap)
		return 0;
	size_t cap = j->pending_cap ? j->pending_cap : 4096;
	uint8_t *n;

	while (cap < j->pending_len + need)
		cap *= 2;
	n = realloc(j->pending, cap);
	if (!n)
		return -ENOMEM;
	j->pending = n;
	j->pending_cap = cap;
	return 0;
}

int journal_stage_add(struct journal *j, const struct journal_lease *l)
{
	int r = stage(j, JOURNAL_ADD_SIZE);

	if (r)
		return r;
	r = journal_encode_add(l, j->pending + j->pending_len, j->pending_cap - j->pending_len);
	if (r < 0)
		return r;
	j->pending_len += (size_t)r;
	return 0;
}

int journal_stage_del(struct journal *j, uint32_t slot, uint64_t generation)
{
	int r = stage(j, JOURNAL_DEL_SIZE);

	if (r)
		return r;
	r = journal_encode_del(slot, generation, j->pending + j->pending_len,
			       j->pending_cap - j->pending_len);
	if (r < 0)
		return r;
	j->pending_len += (size_t)r;
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

	if (!j->pending_len)
		return 0;
	r = uring_write_sync(j, j->pending, j->pending_len, j->size);
	if (r)
		return r;
	j->size += j->pending_len;
	j->pending_len = 0;
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
	if (res == 0) {
		j->size += j->inflight_len;
		publish_size(j);
	}
	j->inflight_len = 0;
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

/* (Re)maps the journal file with room for at least need bytes; the file grows with zeros,
 * which the reader takes as the clean end. */
static int map_reserve(struct journal *j, size_t need)
{
	size_t cap = j->map_cap ? j->map_cap : MAP_MIN;
	void *m;

	if (j->map && need <= j->map_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (ftruncate(j->fd, (off_t)cap) < 0)
		return -errno;
	/* populated: a fault per new page would land on a lease request's path */
	m = j->map ? mremap(j->map, j->map_cap, cap, MREMAP_MAYMOVE)
		   : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, j->fd, 0);
	if (m != MAP_FAILED && j->map && cap > j->map_cap)
		madvise((uint8_t *)m + j->map_cap, cap - j->map_cap, MADV_POPULATE_WRITE);
	if (m == MAP_FAILED)
		return -errno;
	j->map = m;
	j->map_cap = cap;
	return 0;
}

static void map_drop(struct journal *j)
{
	if (j->map)
		munmap(j->map, j->map_cap);
	j->map = NULL;
	j->map_cap = 0;
}

int journal_append_mapped(struct journal *j)
{
	int r;

	if (!j->in_memory)
		return -EOPNOTSUPP;
	if (!j->pending_len)
		return 0;
	r = map_reserve(j, j->size + j->pending_len);
	if (r)
		return r;
	/* a kill mid-copy leaves a record whose CRC fails: the reader stops before it */
	memcpy(j->map + j->size, j->pending, j->pending_len);
	j->size += j->pending_len;
	j->pending_len = 0;
	publish_size(j);
	return 0;
}

int journal_compact(struct journal *j, const struct journal_lease *live, uint32_t n_live)
{
	size_t len = JOURNAL_HDR_SIZE + (size_t)n_live * JOURNAL_ADD_SIZE, off;
	char tmp[sizeof(j->path) + 8];
	uint8_t *buf;
	int fd, r;

	if (j->pending_len || j->inflight_len)
		return -EBUSY;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	journal_encode_header(buf);
	off = JOURNAL_HDR_SIZE;
	for (uint32_t i = 0; i < n_live; i++)
		off += (size_t)journal_encode_add(&live[i], buf + off, len - off);
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->path);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	r = pwrite_all(fd, buf, off, 0);
	free(buf);
	if (!r && fsync(fd) < 0)
		r = -errno;
	/* the rename is the commit point: before it the old journal stands, after it (once
	 * the directory is synced) the new one */
	if (!r && rename(tmp, j->path) < 0)
		r = -errno;
	if (!r && fsync(j->dir_fd) < 0)
		r = -errno;
	if (r) {
		close(fd);
		unlink(tmp);
		return r;
	}
	close(j->fd);
	j->fd = fd;
	j->size = off;
	j->compactions++;
	publish_size(j);
	if (j->in_memory) {
		/* the mapping was the old file's */
		map_drop(j);
		r = map_reserve(j, j->size);
		if (r)
			return r;
	}
	return 0;
}

int journal_open(const char *dir, struct journal_live *ret_live,
		 struct journal_scan_result *ret_scan, struct journal **ret_journal)
{
	struct journal *j = calloc(1, sizeof(*j));
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	journal_live_init(ret_live);
	if (!j)
		return -ENOMEM;
	j->fd = j->dir_fd = -1;
	if (snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_FILE) >= (int)sizeof(j->path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		r = -errno;
		goto fail;
	}
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		r = -errno;
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
	free(buf);
	if (r)
		goto fail;
	j->size = len;
	/* a new journal, or one whose tail cannot be trusted: start from a snapshot of what
	 * the intact records say, so later appends never follow garbage */
	j->size = ret_scan->good_bytes ? ret_scan->good_bytes : len;
	j->in_memory = on_tmpfs(j->fd);
	if (len == 0 || ret_scan->stop) {
		r = journal_compact(j, ret_live->leases, ret_live->n);
		if (r)
			goto fail;
	} else if (j->in_memory) {
		r = map_reserve(j, j->size);
		if (r)
			goto fail;
	}
	*ret_journal = j;
	return 0;
fail:
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
	if (j->fd >= 0)
		close(j->fd);
	if (j->dir_fd >= 0)
		close(j->dir_fd);
	free(j->pending);
	free(j->inflight);
	free(j);
}
