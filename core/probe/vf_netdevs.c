/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/probe/vf_netdevs.h"

static int cmp_name(const void *a, const void *b, void *ctx)
{
	const struct vfpool_shm_vf *vfs = ctx;

	return strncmp(vfs[*(const uint32_t *)a].netdev, vfs[*(const uint32_t *)b].netdev,
		       VFPOOL_IFNAME_MAX);
}

/* Index into by_name of the VF named name, or -1. */
static int64_t find(const struct vfpool_shm_vf *vfs, const uint32_t *by_name, uint32_t n,
		    const char *name)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strncmp(vfs[by_name[mid]].netdev, name, VFPOOL_IFNAME_MAX);

		if (c == 0)
			return by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int vf_netdevs_resolve(const struct vfpool_shm_vf *vfs, uint32_t n_vfs, int32_t *ret_ifindex)
{
	struct if_nameindex *ifs;
	uint32_t *by_name, n = 0;
	int found = 0;

	by_name = malloc((n_vfs ? n_vfs : 1) * sizeof(*by_name));
	if (!by_name)
		return -ENOMEM;
	for (uint32_t i = 0; i < n_vfs; i++)
		if (vfs[i].netdev[0])
			by_name[n++] = i;
	if (n)
		qsort_r(by_name, n, sizeof(*by_name), cmp_name, (void *)vfs);
	ifs = if_nameindex();
	if (!ifs) {
		int r = -errno;

		free(by_name);
		return r;
	}
	memset(ret_ifindex, 0, (size_t)n_vfs * sizeof(*ret_ifindex));
	for (struct if_nameindex *it = ifs; it->if_index; it++) {
		int64_t vf = find(vfs, by_name, n, it->if_name);

		if (vf >= 0 && it->if_index <= INT32_MAX) {
			ret_ifindex[vf] = (int32_t)it->if_index;
			found++;
		}
	}
	if_freenameindex(ifs);
	free(by_name);
	return found;
}
