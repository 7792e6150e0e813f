/* SPDX-License-Identifier: MIT */
/*
 * Reading the state segment: map <run-dir>/state read-only, copy the whole segment under
 * the seqlock, then validate the copy before believing any offset or count in it. All
 * accessors work on the private copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/libvfpool/internal.h"
#include "shm/liveness.h"
#include "shm/pf_block.h"
#include "shm/seqlock.h"
#include "shm/state.h"

#define SNAPSHOT_RETRIES 10000

_Static_assert(VFPOOL_SNAPSHOT_STALE_MS == VFPOOL_HEARTBEAT_STALE_MS,
	       "the public staleness bound is the ABI's");

struct vfpool_snapshot {
	char path[4096];
	const struct vfpool_state_hdr *map; /* the live segment, read-only */
	size_t size;
	struct vfpool_state_hdr *copy;      /* the consistent copy */
	struct vfpool_state_hdr *spare;     /* the next refresh reads into this, then swaps */
	size_t copy_size;                   /* bytes both buffers hold */
	ino_t ino;                          /* the mapped file: a restart replaces it */
	uint64_t checked_ms;                /* when the file's identity was last checked */
	dev_t dev;
	uint64_t seq;
	/* is its writer alive (shm/liveness.h)? The process is looked at when the file is
	 * mapped and with each identity check; the heartbeat on every read */
	bool last_ok;                       /* vfpool_snapshot_take_last: 0 even when dead */
	bool check_process;                 /* due at the next read */
	int process_r;                      /* the last process check: 0 or -EOWNERDEAD */
	int live_r;                         /* the copy's verdict: 0 or -EOWNERDEAD */
	char process_why[96];
	char live_why[96];
	struct state_reader_ns ns;
};

static void unmap(struct vfpool_snapshot *s)
{
	if (s->map)
		munmap((void *)s->map, s->size);
	s->map = NULL;
}

static int map_state(struct vfpool_snapshot *s)
{
	const char *why = NULL;
	struct stat st;
	void *mem;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_size < (off_t)sizeof(struct vfpool_state_hdr)) {
		close(fd);
		return -EPROTO;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return -errno;
	/* the header's first two lines never change after publication (rename) */
	r = state_validate_header(mem, (size_t)st.st_size, &why);
	if (r) {
		vfpool_log(VFPOOL_LOG_ERR, "%s: %s", s->path, why);
		munmap(mem, (size_t)st.st_size);
		return r;
	}
	s->map = mem;
	s->size = (size_t)st.st_size;
	s->ino = st.st_ino;
	s->dev = st.st_dev;
	s->check_process = true; /* a new file, maybe a new writer */
	return 0;
}

/* The copy's writer: alive, or dead with its last state in the copy. */
static int writer_verdict(struct vfpool_snapshot *s, const struct vfpool_state_hdr *copy)
{
	if (s->check_process) {
		s->check_process = false;
		s->process_r = state_writer_process_check(copy, &s->ns, s->process_why,
							  sizeof(s->process_why));
	}
	if (s->process_r) {
		memcpy(s->live_why, s->process_why, sizeof(s->live_why));
		return s->process_r;
	}
	return state_writer_beat_check(copy, &s->ns, s->live_why, sizeof(s->live_why));
}

static uint32_t at_most(uint32_t n, uint32_t cap)
{
	return n < cap ? n : cap;
}

static void copy_part(struct vfpool_state_hdr *dst, const struct vfpool_state_hdr *map,
		      uint64_t off, uint64_t len)
{
	seqlock_copy((char *)dst + off, (const char *)map + off, len);
}

/* The parts of the segment in use: the header, then each array up to its count. The room
 * a daemon reserves for PFs that come later is not copied (a reader of a small host pays
 * for what it has, not for the room). Counts are those of the copied header, bounded by the
 * capacities and offsets that state_validate_header checked when the file was mapped (they
 * never change after publication); a torn count is caught by the retry check after. */
static void copy_used(const struct vfpool_state_hdr *map, struct vfpool_state_hdr *dst)
{
	uint32_t n_pfs, n_vfs, n_groups, n_nets;
	uint64_t words = 0;

	seqlock_copy(dst, map, map->pf_off);
	n_pfs = at_most(dst->n_pfs, map->pf_capacity);
	n_vfs = at_most(dst->n_vfs, map->vf_capacity);
	n_groups = at_most(dst->n_iommu_groups, map->iommu_capacity);
	n_nets = at_most(dst->n_networks, map->network_capacity);
	copy_part(dst, map, map->pf_off, (uint64_t)n_pfs * sizeof(struct vfpool_shm_pf));
	for (uint32_t p = 0; p < n_pfs; p++) {
		const struct vfpool_shm_pf *pf = &state_pfs(dst)[p];
		uint64_t end = pf->bm_off + (uint64_t)pf->bm_words; /* both < 2^32: no wrap */

		if (end > words)
			words = end;
	}
	if (words > map->bitmap_words)
		words = map->bitmap_words; /* a torn record: validation refuses the copy */
	copy_part(dst, map, map->vf_off, (uint64_t)n_vfs * sizeof(struct vfpool_shm_vf));
	copy_part(dst, map, map->bitmap_off, words * sizeof(uint64_t));
	copy_part(dst, map, map->iommu_off,
		  (uint64_t)n_groups * sizeof(struct vfpool_shm_iommu_group));
	copy_part(dst, map, map->network_off, (uint64_t)n_nets * sizeof(struct vfpool_shm_network));
	copy_part(dst, map, map->host_use_off, (uint64_t)n_vfs * sizeof(uint32_t));
}

static int read_consistent(struct vfpool_snapshot *s, struct vfpool_state_hdr *dst)
{
	for (int i = 0; i < SNAPSHOT_RETRIES; i++) {
		uint64_t seq;

		/* bounded: a daemon killed inside a write leaves the sequence odd for good */
		if (seqlock_read_begin_bounded(&s->map->seq, 1000, &seq) < 0)
			continue;

		copy_used(s->map, dst);
		if (!seqlock_read_retry(&s->map->seq, seq)) {
			s->seq = seq;
			return 0;
		}
	}
	return -EAGAIN;
}

/* A daemon that crashed never set the stale flag: a new file under the name says it too.
 * Looked at every 100 ms at most (a stat costs more than the copy itself), and the writer's
 * process with it. */
static bool file_replaced(struct vfpool_snapshot *s)
{
	struct timespec ts;
	struct stat now;
	uint64_t now_ms;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (now_ms - s->checked_ms < 100)
		return false;
	s->checked_ms = now_ms;
	s->check_process = true;
	return stat(s->path, &now) < 0 || now.st_ino != s->ino || now.st_dev != s->dev;
}

VFPOOL_API int vfpool_snapshot_refresh(struct vfpool_snapshot *s)
{
	const char *why = NULL;
	struct vfpool_state_hdr *buf;
	int r;

	if (!s)
		return -EINVAL;
	/* relaxed: a hint to reopen; the rename made the new file complete before */
	if (s->map && (atomic_load_explicit(&s->map->flags, memory_order_relaxed) &
		       VFPOOL_STATE_F_STALE)) {
		unmap(s);
	}
	if (s->map && file_replaced(s))
		unmap(s);
	if (!s->map) {
		r = map_state(s);
		if (r)
			return r;
	}
	/* a polling reader refreshes often: reuse the spare buffer unless the size changed */
	if (s->copy_size != s->size) {
		free(s->spare);
		s->spare = NULL;
	}
	if (!s->spare) {
		s->spare = malloc(s->size);
		if (!s->spare)
			return -ENOMEM;
	}
	buf = s->spare;
	r = read_consistent(s, buf);
	if (r == 0)
		r = state_validate_records(buf, s->size, &why);
	if (r) {
		if (why)
			vfpool_log(VFPOOL_LOG_ERR, "%s: %s", s->path, why);
		return r;
	}
	if (s->copy_size != s->size) {
		free(s->copy);
		s->copy = NULL;
	}
	s->spare = s->copy;
	s->copy = buf;
	s->copy_size = s->size;
	/* a dead daemon's state is its last, never current: the copy holds it all the same */
	s->live_r = writer_verdict(s, buf);
	return s->last_ok ? 0 : s->live_r;
}

static int take(const char *run_dir, bool last_ok, struct vfpool_snapshot **ret_snap)
{
	struct vfpool_snapshot *s;
	int r;

	if (!ret_snap)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->last_ok = last_ok;
	if (snprintf(s->path, sizeof(s->path), "%s/state", vfpool_run_dir(run_dir)) >=
	    (int)sizeof(s->path)) {
		free(s);
		return -ENAMETOOLONG;
	}
	r = vfpool_snapshot_refresh(s);
	if (r) {
		vfpool_snapshot_free(s);
		return r;
	}
	*ret_snap = s;
	return 0;
}

VFPOOL_API int vfpool_snapshot_take(const char *run_dir, struct vfpool_snapshot **ret_snap)
{
	return take(run_dir, false, ret_snap);
}

VFPOOL_API int vfpool_snapshot_take_last(const char *run_dir, struct vfpool_snapshot **ret_snap)
{
	return take(run_dir, true, ret_snap);
}

VFPOOL_API int vfpool_snapshot_changed(struct vfpool_snapshot *s)
{
	char why[96];
	uint64_t checked = 0;

	if (!s)
		return -EINVAL;
	if (!s->map)
		return 1;
	checked = s->checked_ms;
	/* relaxed, both: a hint to refresh, which reads under the seqlock itself (an odd
	 * sequence, a write in progress, also differs from the even one the copy was read at) */
	if (atomic_load_explicit(&s->map->flags, memory_order_relaxed) & VFPOOL_STATE_F_STALE)
		return 1;
	if (atomic_load_explicit(&s->map->seq, memory_order_relaxed) != s->seq)
		return 1;
	if (file_replaced(s)) {
		unmap(s); /* the refresh that follows maps the new file */
		return 1;
	}
	/* a writer that died since the last read: the refresh says so (-EOWNERDEAD). The
	 * process with the identity check (just done, at most every 100 ms), the heartbeat (a
	 * clock read) every time; both read header fields that never change after
	 * publication or are atomic */
	if (s->live_r == 0 && s->checked_ms != checked &&
	    state_writer_process_check(s->map, &s->ns, why, sizeof(why)) < 0)
		return 1;
	if (s->live_r == 0 && state_writer_beat_check(s->map, &s->ns, why, sizeof(why)) < 0)
		return 1;
	return 0;
}

VFPOOL_API int vfpool_snapshot_liveness(const struct vfpool_snapshot *s,
					struct vfpool_liveness *caller)
{
	struct vfpool_liveness l = { .sz = sizeof(l) };

	if (!s || !caller)
		return -EINVAL;
	l.running = s->live_r == 0;
	l.pid = s->copy->daemon_pid;
	/* relaxed: a private copy. A daemon older than the heartbeat: its start */
	l.heartbeat_ns = atomic_load_explicit(&s->copy->heartbeat_real_ns, memory_order_relaxed);
	if (!l.heartbeat_ns)
		l.heartbeat_ns = s->copy->started_ns;
	if (!l.running)
		snprintf(l.why, sizeof(l.why), "%s", s->live_why);
	return opts_out(caller, &l, sizeof(l), OPTS_SIZE_liveness);
}

VFPOOL_API void vfpool_snapshot_free(struct vfpool_snapshot *s)
{
	if (!s)
		return;
	unmap(s);
	free(s->copy);
	free(s->spare);
	free(s);
}

VFPOOL_API size_t vfpool_snapshot_size(const struct vfpool_snapshot *s)
{
	return s ? s->size : 0;
}

VFPOOL_API unsigned vfpool_snapshot_pf_count(const struct vfpool_snapshot *s)
{
	return s ? s->copy->n_pfs : 0;
}

VFPOOL_API unsigned vfpool_snapshot_vf_count(const struct vfpool_snapshot *s)
{
	return s ? s->copy->n_vfs : 0;
}

static void pf_layout(const struct vfpool_shm_pf *pf, struct pf_block_layout *l)
{
	/* validated in state_validate_records: cannot fail here */
	pf_block_layout(pf->total_vfs ? pf->total_vfs : 1, l);
}

VFPOOL_API int vfpool_snapshot_pf(const struct vfpool_snapshot *s, unsigned index,
				  struct vfpool_pf_info *ret)
{
	const struct vfpool_shm_pf *pf;
	struct pf_block_layout l;
	struct pf_block_counts c;
	struct vfpool_pf_info i = { .sz = sizeof(i) };

	if (!s || !ret || index >= s->copy->n_pfs)
		return -EINVAL;
	pf = &state_pfs(s->copy)[index];
	pf_layout(pf, &l);
	pf_block_count(&l, state_bitmap(s->copy) + pf->bm_off, &c);
	memcpy(i.pci_addr, pf->pci_addr, sizeof(i.pci_addr));
	memcpy(i.netdev, pf->netdev, sizeof(i.netdev));
	memcpy(i.driver, pf->driver, sizeof(i.driver));
	i.vendor = pf->vendor;
	i.device = pf->device;
	i.numa_node = pf->numa_node;
	i.total_vfs = pf->total_vfs;
	i.existing = pf->total_vfs ? c.existing : 0;
	i.free = c.allocatable;
	i.leased = c.leased;
	i.host_busy = c.blocked[VFPOOL_BLOCK_HOST_BUSY];
	i.iommu_shared = c.blocked[VFPOOL_BLOCK_IOMMU_SHARED];
	i.bound_other = c.blocked[VFPOOL_BLOCK_BOUND_OTHER];
	i.dirty = c.blocked[VFPOOL_BLOCK_DIRTY];
	i.flags = pf->flags;
	return opts_out(ret, &i, sizeof(i), OPTS_SIZE_pf_info);
}

VFPOOL_API int vfpool_snapshot_vf(const struct vfpool_snapshot *s, unsigned index,
				  struct vfpool_vf_info *ret)
{
	const char *why = NULL;
	/* status when several reasons apply: the one an operator must fix first */
	static const struct { enum vfpool_block_reason r; enum vfpool_vf_status st; } order[] = {
		{ VFPOOL_BLOCK_ABSENT, VFPOOL_VF_STATUS_ABSENT },
		{ VFPOOL_BLOCK_BOUND_OTHER, VFPOOL_VF_STATUS_BOUND_OTHER },
		{ VFPOOL_BLOCK_IOMMU_SHARED, VFPOOL_VF_STATUS_IOMMU_SHARED },
		{ VFPOOL_BLOCK_DIRTY, VFPOOL_VF_STATUS_DIRTY },
		{ VFPOOL_BLOCK_HOST_BUSY, VFPOOL_VF_STATUS_HOST_BUSY },
	};
	const struct vfpool_shm_vf *vf;
	const struct vfpool_shm_pf *pf;
	const _Atomic uint64_t *block;
	struct pf_block_layout l;
	struct vfpool_vf_info i = { .sz = sizeof(i) };
	uint32_t slot;

	if (!s || !ret || index >= s->copy->n_vfs)
		return -EINVAL;
	if (state_validate_vf(s->copy, index, &why) < 0) {
		vfpool_log(VFPOOL_LOG_ERR, "%s: VF record %u: %s", s->path, index, why);
		return -EPROTO;
	}
	vf = &state_vfs(s->copy)[index];
	pf = &state_pfs(s->copy)[vf->pf_index];
	pf_layout(pf, &l);
	block = state_bitmap(s->copy) + pf->bm_off;
	slot = index - pf->vf_first;
	memcpy(i.pci_addr, vf->pci_addr, sizeof(i.pci_addr));
	memcpy(i.netdev, vf->netdev, sizeof(i.netdev));
	i.pf_index = vf->pf_index;
	i.vf_index = vf->vf_index;
	i.ifindex = vf->ifindex;
	i.iommu_group = vf->iommu_group;
	i.numa_node = vf->numa_node;
	for (int r = 0; r < VFPOOL_BLOCK_NR; r++)
		if (pf_block_test(&l, block, l.reason_off[r], slot))
			i.blocked_mask |= 1u << r;
	i.status = VFPOOL_VF_STATUS_FREE;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (i.blocked_mask & (1u << order[k].r)) {
			i.status = order[k].st;
			break;
		}
	}
	if (!pf_block_test(&l, block, l.free_off, slot)) {
		i.status = VFPOOL_VF_STATUS_LEASED;
		memcpy(i.vm_id, vf->vm_id, sizeof(i.vm_id));
		memcpy(i.vnic_id, vf->vnic_id, sizeof(i.vnic_id));
		memcpy(i.network, vf->network, sizeof(i.network));
		memcpy(i.mac, vf->mac, sizeof(i.mac));
		i.vlan = vf->vlan;
		i.vlan_qos = vf->vlan_qos;
		i.cfg_state = vf->cfg_state;
		i.mtu = vf->mtu;
		i.cfg_recorded = (vf->lease_flags & VFPOOL_LEASE_F_CFG_RECORDED) != 0;
		i.vfio_bound = (vf->lease_flags & VFPOOL_LEASE_F_VFIO) &&
			       vf->cfg_state != VFPOOL_CFG_PENDING;
	}
	memcpy(i.reason, vf->reason, sizeof(i.reason));
	i.host_use = state_host_use(s->copy)[index];
	/* the daemon's reason says why a VF is blocked; a free VF that is up on the host is
	 * not, and says so here */
	if (i.status == VFPOOL_VF_STATUS_FREE && i.host_use == VFPOOL_VF_USE_UP && !i.reason[0])
		snprintf(i.reason, sizeof(i.reason), "up on the host, not leased");
	i.generation = vf->lease_gen;
	return opts_out(ret, &i, sizeof(i), OPTS_SIZE_vf_info);
}

_Static_assert(VFPOOL_PF_GONE == VFPOOL_PF_F_GONE, "public PF flags are the segment's");
_Static_assert(VFPOOL_VF_USE_MACVTAP == VFPOOL_HOST_USE_MACVTAP &&
	       VFPOOL_VF_USE_VLAN == VFPOOL_HOST_USE_VLAN &&
	       VFPOOL_VF_USE_BRIDGE_PORT == VFPOOL_HOST_USE_BRIDGE_PORT &&
	       VFPOOL_VF_USE_BOND_MEMBER == VFPOOL_HOST_USE_BOND_MEMBER &&
	       VFPOOL_VF_USE_ADDRESS == VFPOOL_HOST_USE_ADDRESS &&
	       VFPOOL_VF_USE_DEFAULT_ROUTE == VFPOOL_HOST_USE_DEFAULT_ROUTE &&
	       VFPOOL_VF_USE_UP == VFPOOL_HOST_USE_UP, "public host-use bits are the segment's");

static const char *probe_mode_name(uint32_t mode)
{
	switch (mode) {
	case VFPOOL_PROBE_OFF: return "off";
	case VFPOOL_PROBE_BPF: return "bpf";
	case VFPOOL_PROBE_FALLBACK: return "fallback";
	default: return "unknown";
	}
}

VFPOOL_API int vfpool_snapshot_daemon(const struct vfpool_snapshot *s,
				      struct vfpool_daemon_info *caller)
{
	struct vfpool_daemon_info info = { .sz = sizeof(info) }, *ret = &info;

	if (!s || !caller)
		return -EINVAL;
	ret->pid = s->copy->daemon_pid;
	/* relaxed: counters in a private copy; nobody else writes them */
	ret->requests = atomic_load_explicit(&s->copy->requests, memory_order_relaxed);
	ret->errors = atomic_load_explicit(&s->copy->errors, memory_order_relaxed);
	ret->started_ns = s->copy->started_ns;
	ret->seq = s->seq;
	snprintf(ret->probe_mode, sizeof(ret->probe_mode), "%s", probe_mode_name(s->copy->probe_mode));
	ret->probe_passed = atomic_load_explicit(&s->copy->probe_passed, memory_order_relaxed);
	ret->probe_dropped = atomic_load_explicit(&s->copy->probe_dropped, memory_order_relaxed);
	/* the copy is the daemon's bytes: bound the string by its field, not by a NUL */
	snprintf(ret->probe_reason, sizeof(ret->probe_reason), "%.*s",
		 (int)sizeof(s->copy->probe_reason), s->copy->probe_reason);
	ret->journal_bytes = atomic_load_explicit(&s->copy->journal_bytes, memory_order_relaxed);
	ret->journal_records_lost = atomic_load_explicit(&s->copy->journal_records_lost,
							 memory_order_relaxed);
	return opts_out(caller, &info, sizeof(info), OPTS_SIZE_daemon_info);
}

static const char *const err_kind_names[VFPOOL_ERR_NR] = {
	[VFPOOL_ERR_NO_VF] = "no_vf",       [VFPOOL_ERR_REJECTED] = "rejected",
	[VFPOOL_ERR_BLOCKED] = "blocked",   [VFPOOL_ERR_BUSY] = "busy",
	[VFPOOL_ERR_NO_LEASE] = "no_lease", [VFPOOL_ERR_STALE] = "stale",
	[VFPOOL_ERR_CONFLICT] = "conflict", [VFPOOL_ERR_QUOTA] = "quota",
	[VFPOOL_ERR_CONFIG] = "config",     [VFPOOL_ERR_OTHER] = "other",
};
_Static_assert(VFPOOL_ERR_NR <= VFPOOL_STATS_KINDS, "every kind fits the public struct");
_Static_assert(sizeof(((struct vfpool_state_hdr *)0)->errors_by_kind) ==
	       VFPOOL_STATS_KINDS * sizeof(uint64_t), "one counter per public kind slot");
_Static_assert(VFPOOL_LAT_BUCKETS == VFPOOL_STATS_BUCKETS, "histogram fits the public struct");

VFPOOL_API int vfpool_snapshot_stats(const struct vfpool_snapshot *s,
				     struct vfpool_request_stats *ret)
{
	struct vfpool_request_stats st = { .sz = sizeof(st) };

	if (!s || !ret)
		return -EINVAL;
	/* relaxed: counters in a private copy; nobody else writes them */
	st.requests = atomic_load_explicit(&s->copy->requests, memory_order_relaxed);
	st.errors = atomic_load_explicit(&s->copy->errors, memory_order_relaxed);
	st.n_kinds = VFPOOL_ERR_NR;
	for (unsigned k = 0; k < VFPOOL_ERR_NR; k++)
		snprintf(st.by_kind[k].kind, sizeof(st.by_kind[k].kind), "%s", err_kind_names[k]);
	/* a newer daemon's kinds this library cannot name still add up to errors: as other */
	for (unsigned k = 0; k < VFPOOL_STATS_KINDS; k++)
		st.by_kind[k < VFPOOL_ERR_NR ? k : VFPOOL_ERR_OTHER].count +=
			atomic_load_explicit(&s->copy->errors_by_kind[k], memory_order_relaxed);
	st.sample_every = VFPOOL_LAT_SAMPLE;
	st.n_buckets = VFPOOL_LAT_BUCKETS;
	for (unsigned b = 0; b < VFPOOL_LAT_BUCKETS; b++) {
		bool last = b + 1 == VFPOOL_LAT_BUCKETS;

		st.latency[b].under_ns = last ? UINT64_MAX : UINT64_C(1) << (b + 7);
		st.latency[b].count = atomic_load_explicit(&s->copy->latency_buckets[b],
							   memory_order_relaxed);
	}
	return opts_out(ret, &st, sizeof(st), OPTS_SIZE_request_stats);
}

VFPOOL_API int vfpool_snapshot_vf_config(const struct vfpool_snapshot *s, unsigned index,
					 struct vfpool_vf_config *ret)
{
	const char *why = NULL;
	static const uint8_t zero[6];
	const struct vfpool_shm_vf *vf;
	struct vfpool_vf_config c = { .sz = sizeof(c) };

	if (!s || !ret || index >= s->copy->n_vfs)
		return -EINVAL;
	if (state_validate_vf(s->copy, index, &why) < 0) {
		vfpool_log(VFPOOL_LOG_ERR, "%s: VF record %u: %s", s->path, index, why);
		return -EPROTO;
	}
	vf = &state_vfs(s->copy)[index];
	memcpy(c.mac, vf->mac, sizeof(c.mac));
	c.has_mac = memcmp(vf->mac, zero, sizeof(zero)) != 0;
	c.vlan = vf->vlan;
	c.vlan_qos = vf->vlan_qos;
	c.mtu = vf->mtu;
	return opts_out(ret, &c, sizeof(c), OPTS_SIZE_vf_config);
}

VFPOOL_API unsigned vfpool_snapshot_network_count(const struct vfpool_snapshot *s)
{
	return s ? s->copy->n_networks : 0;
}

VFPOOL_API int vfpool_snapshot_network(const struct vfpool_snapshot *s, unsigned index,
				       struct vfpool_network_info *ret)
{
	const struct vfpool_shm_network *n;
	struct vfpool_network_info i = { .sz = sizeof(i) };

	if (!s || !ret || index >= s->copy->n_networks)
		return -EINVAL;
	/* strings validated as terminated in state_validate_records */
	n = &state_networks(s->copy)[index];
	memcpy(i.name, n->name, sizeof(i.name));
	memcpy(i.label, n->label, sizeof(i.label));
	i.vlan = n->vlan;
	i.mtu = n->mtu;
	memcpy(i.pf_allowed, n->pf_allowed, sizeof(i.pf_allowed));
	return opts_out(ret, &i, sizeof(i), OPTS_SIZE_network_info);
}
