/* SPDX-License-Identifier: MIT */
/*
 * vfpoold's composition root: daemon_new creates every part in order and wires them,
 * daemon_run runs the loop (one thread, one io_uring), daemon_free tears down what
 * daemon_new created, in reverse.
 */
#ifndef VFPOOL_CORE_DAEMON_H
#define VFPOOL_CORE_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "shm/layout.h"

struct daemon_opts {
	const char *run_dir;
	const char *state_dir;
	/* a simulated host of simulate_pfs PFs x simulate_vfs VFs; 0: the host is discovered
	 * through libudev and watched */
	unsigned simulate_pfs, simulate_vfs;
	unsigned spin_us;     /* poll this long after the last work before sleeping */
	unsigned max_clients; /* 0: 256 */
	unsigned max_clients_per_uid; /* root exempt; 0: a quarter of max_clients */
	int reserved_clients; /* the last slots, for root and the admin group; -1: the default */
	unsigned handshake_timeout_ms; /* a connection must say hello by then; 0: 2000 */
	unsigned ring_memory_mib; /* --ring-memory: all client rings together; 0: the default */
	gid_t socket_gid;     /* (gid_t)-1: leave the socket's group alone */
	gid_t admin_gid;      /* may change configuration; (gid_t)-1: root only */
	enum vfpool_probe_mode probe_mode; /* link-event probe; 0 (OFF) when zeroed */
	bool busy_when_up;    /* a VF netdev up on the host is host-busy (--busy-when-up) */
	int vf_config_mode;   /* enum vf_config_mode (core/vfconfig/vf_config.h); 0: auto */
	unsigned vf_config_timeout_ms; /* 0: the default */
	unsigned max_leases_per_vm; /* 0: no limit */
	int placement;        /* enum placement_mode (core/model/placement.h); 0: spread */
	unsigned numvfs_timeout_ms; /* each step of a numvfs change; 0: the default (2 min) */
	unsigned sweep_interval_s;  /* lease sweep period; 0: the default (60 s) */
	bool sweep_release;         /* the sweep releases what it finds (default: reports) */
	/* room in the state segment for PFs that come after start (a discovered host only):
	 * up to max_pfs PFs with max_vfs VF slots between them; 0: the defaults */
	unsigned max_pfs, max_vfs;
};

struct daemon;

/* Logs why when it fails. */
int daemon_new(const struct daemon_opts *opts, struct daemon **ret_daemon);
/* Serves until SIGTERM or SIGINT (blocked by the caller and read through a signalfd).
 * -EIO when it stopped because leases could no longer be made durable. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
