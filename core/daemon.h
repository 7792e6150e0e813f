/* SPDX-License-Identifier: MIT */
/*
 * vfpoold's composition root: daemon_new creates every part in order and wires them,
 * daemon_run runs the loop (one thread, one io_uring), daemon_free tears down what
 * daemon_new created, in reverse.
 */
#ifndef VFPOOL_CORE_DAEMON_H
#define VFPOOL_CORE_DAEMON_H

#include <signal.h>
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

/* The signals the daemon reads through its signalfd (SIGTERM and SIGINT stop it, SIGHUP
 * reloads, SIGUSR1/2 are logged and ignored): the caller blocks them before daemon_new. */
void daemon_signal_mask(sigset_t *mask);

/* A part that reloads its configuration from the state dir on SIGHUP (systemctl reload):
 * runs on the loop thread, keeps what it had when it cannot, logs its own outcome once;
 * 0 or -errno. The policy is one; PF selectors and the like register theirs in daemon_new. */
struct daemon_reload_hook {
	const char *name;
	int (*reload)(void *ctx);
	void *ctx;
};
#define DAEMON_MAX_RELOAD_HOOKS 8

/* -ENOSPC past DAEMON_MAX_RELOAD_HOOKS. */
int daemon_add_reload_hook(struct daemon *d, const char *name, int (*reload)(void *ctx),
			   void *ctx);

/* Logs why when it fails. */
int daemon_new(const struct daemon_opts *opts, struct daemon **ret_daemon);
/* Names the control socket (until now listening under a temporary name), tells the service
 * manager READY=1 and serves until SIGTERM or SIGINT (daemon_signal_mask, blocked by the
 * caller and read through a signalfd). -EIO when it stopped because leases could no longer
 * be made durable. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
