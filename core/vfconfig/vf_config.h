/* SPDX-License-Identifier: MIT */
/*
 * VF configuration, asynchronous on the daemon's io_uring. A NETLINK_ROUTE socket is
 * written and read through io_uring; each request carries a sequence number, its ACK or
 * NACK is matched by it, and a timer per request bounds the wait. Work is queued per PF
 * and one request per PF is in flight, so the kernel sees one PF's changes in order. Each
 * piece of work is a job (core/vfconfig/vf_job.h: the steps, the rollback, the outcome);
 * this file owns them and does the I/O.
 *
 * Allocation (engine hook lease_made): the VF's original state is read (RTM_GETLINK with
 * RTEXT_FILTER_VF) before its first change and saved; then the lease's config is applied;
 * the request's configured gate opens (pending_configured) when the kernel ACKed it. On
 * failure the VF is restored (if anything was applied), the lease undone and the VF
 * returned to the pool, and the client gets the kernel's reason. Release (lease_ended):
 * the saved state is restored, a vfio-pci VF gets a function-level reset, and only then
 * does the VF return to the pool; a failed reset quarantines it (VFPOOL_BLOCK_DIRTY). Every
 * job carries the lease generation and is dropped if the VF was leased again meanwhile.
 */
#ifndef VFPOOL_CORE_VF_CONFIG_H
#define VFPOOL_CORE_VF_CONFIG_H

#include <liburing.h>
#include <stdbool.h>

#include "core/model/engine.h"
#include "core/vfconfig/vf_config_msg.h"

enum vf_config_mode {
	VF_CONFIG_AUTO = 0, /* send when the PF's netdev exists in our netns */
	VF_CONFIG_ON = 1,   /* always send (a missing PF fails the allocation) */
	VF_CONFIG_OFF = 2,  /* record the config, send nothing */
};

#define VF_CONFIG_DEFAULT_TIMEOUT_MS 2000u

struct vf_config_opts {
	enum vf_config_mode mode;
	unsigned timeout_ms; /* per request; 0: the default */
	int nl_fd;           /* -1: open a NETLINK_ROUTE socket; else taken over (tests) */
	const char *sysfs_pci; /* "/sys/bus/pci/devices" unless set (tests) */
};

struct vf_config;

/* Attaches to e as its hooks. The io_uring must outlive it. */
int vf_config_new(struct io_uring *ring, struct engine *e, const struct vf_config_opts *opts,
		  struct vf_config **ret_vc);
/* Reads every PF's VF state; VFs left configured (a crash) are reset before reuse. */
void vf_config_scan(struct vf_config *vc);
/* Requests still queued or in flight (tests run the loop until it is 0). */
unsigned vf_config_busy(const struct vf_config *vc);
/* Detaches from the engine; posts nothing more. Call after the io_uring is torn down. */
void vf_config_free(struct vf_config *vc);

int vf_config_parse_mode(const char *s, enum vf_config_mode *ret_mode);

#endif
