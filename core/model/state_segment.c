/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/base/clock.h"
#include "core/base/reason.h"
#include "core/model/state_segment.h"
#include "shm/liveness.h"

static uint32_t total_slots(const struct host *host)
{
	uint64_t n = 0;

	for (size_t p = 0; p < host->n_pfs; p++)
		n += host->pfs[p].total_vfs;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static uint32_t host_words(const struct host *host)
{
	uint64_t words = 0;

	for (size_t p = 0; p < host->n_pfs; p++)
		words += pool_pf_words(host->pfs[p].total_vfs ? host->pfs[p].total_vfs : 1);
	return words > UINT32_MAX ? UINT32_MAX : (uint32_t)words;
}

/* Bitmap words that any pfs PFs with vfs VF slots between them can need: a block of n
 * slots is 6 leaf bitmaps of ceil(n / 64) words plus at most 4 summary levels, together
 * within 7 * (n / 64 + 1) + 4 words. */
static uint64_t words_bound(uint64_t pfs, uint64_t vfs)
{
	return pfs ? 7 * ((vfs + 63) / 64 + pfs) + 4 * pfs : 0;
}

static int geometry_for(const struct host *host, const struct state_room *room,
			struct state_geometry *g)
{
	uint64_t slots = total_slots(host), words = host_words(host);
	uint64_t pfs = host->n_pfs, vfs = slots;

	if (host->n_pfs > POOL_MAX_PFS)
		return -ERANGE;
	for (size_t p = 0; p < host->n_pfs; p++)
		if (pool_pf_words(host->pfs[p].total_vfs ? host->pfs[p].total_vfs : 1) == 0)
			return -ERANGE;
	/* room for PFs that come later (hot-plug, a late driver): within the limits, any PF
	 * of any size fits while the PF and VF counts do */
	if (room && room->pfs > pfs)
		pfs = room->pfs > POOL_MAX_PFS ? POOL_MAX_PFS : room->pfs;
	if (room && room->vfs > vfs)
		vfs = room->vfs;
	words += words_bound(pfs - host->n_pfs, vfs - slots);
	if (vfs > UINT32_MAX || words > UINT32_MAX)
		return -ERANGE;
	return state_geometry((uint32_t)pfs, (uint32_t)vfs,
			      room && vfs > host->n_groups ? (uint32_t)vfs :
			      host->n_groups ? (uint32_t)host->n_groups : 1,
			      (uint32_t)words, g);
}

int state_seg_size_room(const struct host *host, const struct state_room *room, size_t *ret_size)
{
	struct state_geometry g;
	int r = geometry_for(host, room, &g);

	if (r)
		return r;
	*ret_size = g.size;
	return 0;
}

int state_seg_size(const struct host *host, size_t *ret_size)
{
	return state_seg_size_room(host, NULL, ret_size);
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

int state_seg_format(void *mem, size_t size, const struct host *host)
{
	return state_seg_format_room(mem, size, host, NULL);
}

int state_seg_format_room(void *mem, size_t size, const struct host *host,
			  const struct state_room *room)
{
	struct vfpool_state_hdr *hdr = mem;
	struct state_geometry g;
	struct pool pool;
	uint64_t bm = 0;
	uint32_t slot = 0;
	int r = geometry_for(host, room, &g);

	if (r)
		return r;
	if (size < g.size)
		return -ENOSPC;
	memset(mem, 0, g.size);
	state_hdr_init(hdr, &g);
	hdr->daemon_pid = getpid();
	hdr->n_pfs = (uint32_t)host->n_pfs;
	hdr->n_vfs = total_slots(host); /* the rest of vf_capacity is room for later PFs */
	hdr->n_iommu_groups = (uint32_t)host->n_groups;

	for (size_t p = 0; p < host->n_pfs; p++) {
		const struct host_pf *hp = &host->pfs[p];
		struct vfpool_shm_pf *pf = &state_pfs(hdr)[p];
		uint32_t slots = hp->total_vfs ? hp->total_vfs : 1;

		copy_str(pf->pci_addr, sizeof(pf->pci_addr), hp->pci_addr);
		copy_str(pf->netdev, sizeof(pf->netdev), hp->netdev);
		copy_str(pf->driver, sizeof(pf->driver), hp->driver);
		pf->vendor = hp->vendor;
		pf->device = hp->device;
		pf->numa_node = hp->numa_node;
		pf->total_vfs = hp->total_vfs;
		pf->num_vfs = hp->num_vfs;
		pf->vf_first = slot;
		pf->flags = hp->bond_master[0] ? VFPOOL_PF_F_BOND_SLAVE : 0;
		pf->bm_off = bm;
		pf->bm_words = pool_pf_words(slots);
		r = pool_pf_format(state_bitmap(hdr) + bm, slots);
		if (r)
			return r;
		for (uint32_t s = 0; s < hp->total_vfs; s++) {
			struct vfpool_shm_vf *vf = &state_vfs(hdr)[slot + s];

			vf->pf_index = (uint32_t)p;
			vf->vf_index = s;
			vf->iommu_group = -1;
			vf->numa_node = hp->numa_node;
		}
		bm += pf->bm_words;
		slot += hp->total_vfs;
	}
	for (size_t i = 0; i < host->n_groups; i++) {
		struct vfpool_shm_iommu_group *sg = &state_groups(hdr)[i];

		sg->group = host->groups[i].group;
		sg->n_devices = host->groups[i].n_devices;
		copy_str(sg->other_dev, sizeof(sg->other_dev), host->groups[i].other_dev);
	}

	r = state_seg_pool(hdr, &pool);
	if (r)
		return r;
	/* every slot starts absent; the VFs the host has make theirs present */
	for (uint32_t p = 0; p < pool.n_pfs; p++)
		for (uint32_t s = 0; s < pool.pfs[p].layout.n_slots; s++)
			pool_set_blocked(&pool.pfs[p], s, VFPOOL_BLOCK_ABSENT, true);
	for (size_t i = 0; i < host->n_vfs; i++) {
		const struct host_vf *hv = &host->vfs[i];
		const struct vfpool_shm_pf *pf;
		struct vfpool_shm_vf *vf;
		const struct host_iommu_group *grp;

		if (hv->pf >= host->n_pfs || hv->vf_index >= host->pfs[hv->pf].total_vfs)
			continue; /* discovery keeps these out; never index past a PF's slots */
		pf = &state_pfs(hdr)[hv->pf];
		vf = &state_vfs(hdr)[pf->vf_first + hv->vf_index];
		copy_str(vf->pci_addr, sizeof(vf->pci_addr), hv->pci_addr);
		copy_str(vf->netdev, sizeof(vf->netdev), hv->netdev);
		vf->ifindex = hv->ifindex;
		vf->iommu_group = hv->iommu_group;
		vf->numa_node = hv->numa_node;
		pool_set_blocked(&pool.pfs[hv->pf], hv->vf_index, VFPOOL_BLOCK_ABSENT, false);
		grp = hv->iommu_group >= 0 ? host_find_group(host, hv->iommu_group) : NULL;
		if (grp && grp->n_devices > 1) {
			pool_set_blocked(&pool.pfs[hv->pf], hv->vf_index, VFPOOL_BLOCK_IOMMU_SHARED,
					 true);
			snprintf(vf->reason, sizeof(vf->reason), "IOMMU group %d shared with %s",
				 grp->group, grp->other_dev[0] ? grp->other_dev : "another device");
		}
		if (hv->bound_other) {
			pool_set_blocked(&pool.pfs[hv->pf], hv->vf_index, VFPOOL_BLOCK_BOUND_OTHER,
					 true);
			snprintf(vf->reason, sizeof(vf->reason), "bound to %s without a lease",
				 hv->driver);
		}
	}
	pool_views_free(&pool);
	return 0;
}

int state_seg_pool(struct vfpool_state_hdr *hdr, struct pool *ret_pool)
{
	struct pool p = { .n_pfs = hdr->n_pfs };

	/* room for every PF the segment can take: PFs that come later join the views */
	p.pfs = calloc(hdr->pf_capacity ? hdr->pf_capacity : 1, sizeof(*p.pfs));
	if (!p.pfs)
		return -ENOMEM;
	for (uint32_t i = 0; i < hdr->n_pfs; i++) {
		const struct vfpool_shm_pf *pf = &state_pfs(hdr)[i];
		int r = pool_pf_attach(&p.pfs[i], state_bitmap(hdr) + pf->bm_off,
				       pf->total_vfs ? pf->total_vfs : 1, pf->numa_node);
		if (r) {
			free(p.pfs);
			return r;
		}
	}
	atomic_init(&p.rotor, 0);
	*ret_pool = p;
	return 0;
}

void pool_views_free(struct pool *pool)
{
	free(pool->pfs);
	pool->pfs = NULL;
	pool->n_pfs = 0;
}

/* Names in the run dir; a temp file under a fixed name is safe: the run dir's lock is held */
#define STATE_NAME "state"
#define STATE_TMP  ".state.tmp"

/* The file's mode: the daemon's user, and the socket group when there is one. */
static int set_owner(int fd, gid_t group, char *why, size_t len)
{
	if (group != (gid_t)-1 && fchown(fd, (uid_t)-1, group) < 0)
		return reason_err(-errno, why, len, "giving it to group %u: %s", (unsigned)group,
				  strerror(errno));
	if (fchmod(fd, group != (gid_t)-1 ? 0640 : 0600) < 0)
		return reason_err(-errno, why, len, "chmod: %s", strerror(errno));
	return 0;
}

/* Maps size bytes of fd whose blocks are reserved first: a file system that is full fails
 * here, with a reason, instead of delivering SIGBUS at the first store into a hole. */
static int map_reserved(int fd, size_t size, void **ret_mem, char *why, size_t len)
{
	void *mem;
	int r;

	if (ftruncate(fd, (off_t)size) < 0)
		return reason_err(-errno, why, len, "sizing to %zu bytes: %s", size,
				  strerror(errno));
	r = posix_fallocate(fd, 0, (off_t)size); /* returns the error, errno untouched */
	if (r)
		return reason_err(-r, why, len, "reserving %zu bytes: %s", size, strerror(r));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return reason_err(-errno, why, len, "mmap of %zu bytes: %s", size, strerror(errno));
	*ret_mem = mem;
	return 0;
}

int state_seg_create(int dir_fd, gid_t group, const struct host *host,
		     const struct state_room *room, struct state_seg **ret_seg, char *why,
		     size_t why_len)
{
	struct state_seg *seg;
	struct stat a, b;
	void *mem = NULL;
	size_t size;
	int fd, r;

	r = state_seg_size_room(host, room, &size);
	if (r)
		return reason_err(r, why, why_len, "host too large for a state segment: %s",
				  strerror(-r));
	seg = calloc(1, sizeof(*seg));
	if (!seg)
		return reason_err(-ENOMEM, why, why_len, "out of memory");
	seg->ro_fd = -1;
	/* a dead daemon's temp file (never one another user planted: the dir is verified) */
	if (unlinkat(dir_fd, STATE_TMP, 0) < 0 && errno != ENOENT) {
		r = reason_err(-errno, why, why_len, "removing %s: %s", STATE_TMP, strerror(errno));
		free(seg);
		return r;
	}
	fd = openat(dir_fd, STATE_TMP, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = reason_err(-errno, why, why_len, "creating %s: %s", STATE_TMP, strerror(errno));
		free(seg);
		return r;
	}
	r = set_owner(fd, group, why, why_len);
	if (r == 0)
		r = map_reserved(fd, size, &mem, why, why_len);
	if (r)
		goto fail_unlink;
	r = state_seg_format_room(mem, size, host, room);
	if (r) {
		reason_err(r, why, why_len, "formatting: %s", strerror(-r));
		goto fail_unmap;
	}
	((struct vfpool_state_hdr *)mem)->started_ns = clock_ns(CLOCK_REALTIME);
	state_writer_init(mem);
	/* rename publishes a fully formatted segment: readers never see a half-built one */
	if (renameat(dir_fd, STATE_TMP, dir_fd, STATE_NAME) < 0) {
		r = reason_err(-errno, why, why_len, "publishing: %s", strerror(errno));
		goto fail_unmap;
	}
	/* the read-only descriptor handed to clients: the file just published, nothing else */
	seg->ro_fd = openat(dir_fd, STATE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (seg->ro_fd < 0 || fstat(seg->ro_fd, &a) < 0 || fstat(fd, &b) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		r = reason_err(seg->ro_fd < 0 ? -errno : -ESTALE, why, why_len,
			       "reopening read-only: %s",
			       seg->ro_fd < 0 ? strerror(errno) : "replaced under us");
		if (seg->ro_fd >= 0)
			close(seg->ro_fd);
		munmap(mem, size);
		unlinkat(dir_fd, STATE_NAME, 0);
		close(fd);
		free(seg);
		return r;
	}
	close(fd);
	seg->hdr = mem;
	seg->size = size;
	*ret_seg = seg;
	return 0;

fail_unmap:
	munmap(mem, size);
fail_unlink:
	unlinkat(dir_fd, STATE_TMP, 0);
	close(fd);
	free(seg);
	return r;
}

void state_seg_destroy(struct state_seg *seg)
{
	if (!seg)
		return;
	/* readers that still map it see the flag and know to reopen. release: pairs with the
	 * acquire fence in seqlock_read_retry (shm/seqlock.h), which follows the reader's copy
	 * of the header: a copy that holds EXITED and passes the retry check is the last state,
	 * every write section having closed before this store (state_writer_*_check judge the
	 * daemon gone by it). libvfpool's reopen hint reads STALE relaxed: it only reopens by
	 * name, and the successor was complete before its rename */
	atomic_fetch_or_explicit(&seg->hdr->flags, VFPOOL_STATE_F_STALE | VFPOOL_STATE_F_EXITED,
				 memory_order_release);
	munmap(seg->hdr, seg->size);
	if (seg->ro_fd >= 0)
		close(seg->ro_fd);
	free(seg);
}

/* The bitmap words the PFs use: blocks are laid out in PF order. */
static uint64_t used_words(const struct vfpool_state_hdr *hdr)
{
	const struct vfpool_shm_pf *last;

	if (hdr->n_pfs == 0)
		return 0;
	last = &state_pfs(hdr)[hdr->n_pfs - 1];
	return last->bm_off + last->bm_words;
}

bool state_seg_has_room(const struct vfpool_state_hdr *hdr, uint32_t pfs, uint64_t slots,
			uint64_t words)
{
	return (uint64_t)hdr->n_pfs + pfs <= hdr->pf_capacity &&
	       (uint64_t)hdr->n_vfs + slots <= hdr->vf_capacity &&
	       used_words(hdr) + words <= hdr->bitmap_words;
}

int state_seg_append_pf(struct vfpool_state_hdr *hdr, struct pool *pool, const struct host_pf *hp)
{
	uint32_t slots = hp->total_vfs ? hp->total_vfs : 1, words = pool_pf_words(slots);
	struct vfpool_shm_pf *pf;
	struct pool_pf view;
	uint64_t bm = used_words(hdr);
	int r;

	if (words == 0 || !state_seg_has_room(hdr, 1, hp->total_vfs, words))
		return -ENOSPC;
	pf = &state_pfs(hdr)[hdr->n_pfs];
	memset(pf, 0, sizeof(*pf));
	copy_str(pf->pci_addr, sizeof(pf->pci_addr), hp->pci_addr);
	copy_str(pf->netdev, sizeof(pf->netdev), hp->netdev);
	copy_str(pf->driver, sizeof(pf->driver), hp->driver);
	pf->vendor = hp->vendor;
	pf->device = hp->device;
	pf->numa_node = hp->numa_node;
	pf->total_vfs = hp->total_vfs;
	pf->vf_first = hdr->n_vfs;
	pf->flags = hp->bond_master[0] ? VFPOOL_PF_F_BOND_SLAVE : 0;
	pf->bm_off = bm;
	pf->bm_words = words;
	/* the block is beyond n_pfs until the count below: no reader or claim looks at it */
	r = pool_pf_format(state_bitmap(hdr) + bm, slots);
	if (!r)
		r = pool_pf_attach(&view, state_bitmap(hdr) + bm, slots, hp->numa_node);
	if (r)
		return r;
	for (uint32_t s = 0; s < slots; s++)
		pool_set_blocked(&view, s, VFPOOL_BLOCK_ABSENT, true);
	for (uint32_t s = 0; s < hp->total_vfs; s++) {
		struct vfpool_shm_vf *vf = &state_vfs(hdr)[pf->vf_first + s];

		memset(vf, 0, sizeof(*vf));
		vf->pf_index = hdr->n_pfs;
		vf->vf_index = s;
		vf->iommu_group = -1;
		vf->numa_node = hp->numa_node;
		state_host_use(hdr)[pf->vf_first + s] = 0;
	}
	pool->pfs[pool->n_pfs++] = view;
	hdr->n_vfs += hp->total_vfs;
	hdr->n_pfs++;
	return 0;
}
