/* SPDX-License-Identifier: MIT */
/*
 * Managed vfio-pci binding (libvirt's managed='yes', done by the VF authority): a lease
 * asked with VFPOOL_REQ_F_VFIO gets its VF bound to vfio-pci before its request completes
 * (VFPOOL_CQE_F_VFIO: the VFIO group is /dev/vfio/<iommu_group>), and the VF goes back to
 * its original driver before it is free again. The binding itself is core/vfio/vfio_bind.h;
 * this owner does its I/O on the daemon's io_uring and sits in front of the VF
 * configuration (core/vfconfig) in the engine's hooks:
 *
 *   allocation: bind, then the lease's VF configuration (PF side; the VF netdev is gone by
 *               then), then the request completes. A bind that fails gives the VF back and
 *               undoes the lease; the client hears why.
 *   release:    unbind and reprobe the original driver, then the configuration's restore,
 *               then the VF returns to the pool. A VF that cannot be given back is
 *               quarantined (dirty), never handed out on the wrong driver.
 *
 * Crash safety: before its first sysfs write a bind records the VF's original driver in
 * <run-dir>/vfio/<pci-address> (atomic, fsync'd), removed once the VF is back. The run dir,
 * like the lease journal beside it: a driver binding does not outlive the host either.
 * At start (vfio_owner_recover, after the journal gave the leases back) each record is
 * finished: a leased VF is bound (a crash mid-bind: the lease was asked with vfio), a free
 * one is held and given back to its driver before anyone can have it.
 */
#ifndef VFPOOL_CORE_VFIO_OWNER_H
#define VFPOOL_CORE_VFIO_OWNER_H

#include <liburing.h>

#include "core/model/engine.h"

#define VFIO_RECORD_DIR "vfio"

struct vfio_owner_opts {
	struct io_uring *ring;
	struct engine *engine;
	int run_dir_fd;    /* records go to <run-dir>/vfio (created 0700) */
	const char *sysfs; /* "/sys" unless set */
};

struct vfio_owner;

/* Puts itself in front of the engine's hooks (the VF configuration's, when set). */
int vfio_owner_new(const struct vfio_owner_opts *opts, struct vfio_owner **ret_owner);
/* Finishes or rolls back what the records left by an earlier run say (see above). */
void vfio_owner_recover(struct vfio_owner *o);
/* Binds and unbinds still in progress (tests run the loop until it is 0). */
unsigned vfio_owner_busy(const struct vfio_owner *o);
/* Gives the engine its former hooks back. Call after the io_uring is torn down. */
void vfio_owner_free(struct vfio_owner *o);

#endif
