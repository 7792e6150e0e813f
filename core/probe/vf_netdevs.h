/* SPDX-License-Identifier: MIT */
/* VF netdev names to ifindexes, in the calling process's network namespace. */
#ifndef VFPOOL_CORE_VF_NETDEVS_H
#define VFPOOL_CORE_VF_NETDEVS_H

#include <stdint.h>

#include "shm/layout.h"

/* Looks up every VF record's netdev (vfs[0..n_vfs)) among the namespace's interfaces and
 * writes ret_ifindex[i]: its ifindex, or 0 when the record has no netdev or no interface
 * of that name exists here. One listing of the interfaces for all VFs, not one lookup per
 * VF: a host may have tens of thousands of VF slots. Returns how many were found, or a
 * negative errno. */
int vf_netdevs_resolve(const struct vfpool_shm_vf *vfs, uint32_t n_vfs, int32_t *ret_ifindex);

#endif
