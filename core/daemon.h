/* SPDX-License-Identifier: MIT */
/* vfpoold's event loop: one thread, one io_uring. */
#ifndef VFPOOL_CORE_DAEMON_H
#define VFPOOL_CORE_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/model/host.h"

struct daemon_opts {
	const char *run_dir;
	const char *state_dir;
	unsigned spin_us;     /* poll this long after the last work before sleeping */
	unsigned max_clients;
	unsigned handshake_timeout_ms; /* a connection must say hello by then; 0: 2000 */
	gid_t socket_gid;     /* (gid_t)-1: leave the socket's group alone */
	gid_t admin_gid;      /* may change configuration; (gid_t)-1: root only */
	unsigned host_kind;   /* enum vfpool_host_kind: published before the socket listens */
	enum vfpool_probe_mode probe_mode; /* link-event probe; 0 (OFF) when zeroed */
	bool busy_when_up;    /* a VF netdev up on the host is host-busy (--busy-when-up) */
	int vf_config_mode;   /* enum vf_config_mode (core/vfconfig/vf_config.h); 0: auto */
	unsigned vf_config_timeout_ms; /* 0: the default */
	unsigned max_leases_per_vm; /* 0: no limit */
	unsigned numvfs_timeout_ms; /* each step of a numvfs change; 0: the default (2 min) */
	unsigned sweep_interval_s;  /* lease sweep period; 0: the default (60 s) */
	bool sweep_release;         /* the sweep releases what it finds (default: reports) */
};

struct daemon;

/* Takes ownership of host. */
int daemon_new(const struct daemon_opts *opts, struct host *host, struct daemon **ret_daemon);
/* Serves until SIGTERM or SIGINT (blocked by the caller and read through a signalfd). */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
