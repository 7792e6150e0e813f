/* SPDX-License-Identifier: MIT */
/*
 * The composition root. daemon_new creates the parts in dependency order and wires them;
 * daemon_free tears down exactly those, in reverse, after the ring (whose requests point
 * into them) is gone.
 *
 * The loop: io_uring carries the control socket and the clients' doorbells
 * (core/connection.h), the signalfd, and whatever other parts register (core/loop.h).
 * Client rings are polled directly from user space while there is work, and for spin_us
 * after the last work; then the loop announces it sleeps (sq_wakeup) and blocks in
 * io_uring_enter until a doorbell, a connection, a signal or another event arrives.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/connection.h"
#include "core/base/clock.h"
#include "core/base/container_of.h"
#include "core/control_socket.h"
#include "core/ctl_command.h"
#include "core/daemon.h"
#include "core/heartbeat.h"
#include "core/host/host_watch.h"
#include "core/host/pf_select_cmd.h"
#include "core/lease/lease_cmd.h"
#include "core/lease/lease_durable.h"
#include "core/lease/lease_sweep.h"
#include "core/lease/pid_watch.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/model/engine.h"
#include "core/model/host.h"
#include "core/model/policy.h"
#include "core/model/state_segment.h"
#include "core/notify.h"
#include "core/numvfs/numvfs_cmd.h"
#include "core/policy/policy_cmd.h"
#include "core/probe/probe_source.h"
#include "core/safe_dir.h"
#include "core/vfconfig/vf_config.h"
#include "core/vfio/vfio_owner.h"
#include "shm/seqlock.h"

struct daemon {
	struct daemon_opts opts;
	uint32_t max_clients;
	/* the host model (replaced by each discovery the watch applies), and the watch: NULL
	 * for a simulated host */
	struct host *host;
	struct host_watch *host_watch;
	struct pf_select_cmd_ctx pf_select; /* the PF selectors' commands and reload */
	struct host_watch_listener grow;    /* PFs found after start join the policy */
	int run_dir_fd;  /* the verified run dir (core/safe_dir.h); its files are opened at it */
	int lock_fd;     /* <run-dir>/vfpoold.lock, held for the daemon's life */
	/* the resolved, verified paths opts.run_dir and opts.state_dir point at */
	char run_dir_real[4096];
	char state_dir_real[4096];
	struct io_uring ring;
	bool ring_ready;
	struct state_seg *seg;
	struct engine engine;
	struct policy policy;
	struct policy_cmd_ctx policy_cmd; /* set once the policy is started */
	struct lease_durable *durable;    /* the lease journal (core/lease/lease_durable.h) */
	struct lease_cmd_ctx lease_cmd;
	struct probe_source *probe;       /* NULL with --probe=off */
	int listen_fd;
	int signal_fd;
	struct signalfd_siginfo siginfo;
	struct loop_op signal_op;
	struct vf_config *vfc;
	struct vfio_owner *vfio; /* managed vfio-pci binding, in front of vfc */
	struct pid_watch *pid_watch;      /* process-bound leases (core/lease/pid_watch.h) */
	struct lease_sweep *sweep;        /* periodic lease sweep (core/lease/lease_sweep.h) */
	struct heartbeat *heartbeat;      /* the state segment's heartbeat (core/heartbeat.h) */
	struct numvfs_cmd *numvfs;        /* numvfs changes (core/numvfs/numvfs_cmd.h) */
	struct ctl_dispatcher commands;
	struct connections *conns;
	/* what SIGHUP reloads from the state dir, in registration order */
	struct daemon_reload_hook reload_hooks[DAEMON_MAX_RELOAD_HOOKS];
	unsigned n_reload_hooks;
	char stop_why[64]; /* for STOPPING=1's STATUS= */
	int failed;      /* nonzero: stopped because leases can no longer be made durable */
	bool stop;
};

int daemon_add_reload_hook(struct daemon *d, const char *name, int (*reload)(void *ctx),
			   void *ctx)
{
	if (d->n_reload_hooks == DAEMON_MAX_RELOAD_HOOKS)
		return -ENOSPC;
	d->reload_hooks[d->n_reload_hooks++] = (struct daemon_reload_hook){
		.name = name, .reload = reload, .ctx = ctx,
	};
	return 0;
}

static void daemon_status(const struct daemon *d, struct notify_status *st)
{
	st->pfs = (uint32_t)d->host->n_pfs;
	st->vfs = (uint32_t)d->host->n_vfs;
	st->leased = lease_index_count(d->engine.leases);
	st->clients = connections_count(d->conns);
}

/* SIGHUP (systemctl reload): every hook reloads its part from the state dir; one that
 * fails keeps what it had and says why (each hook logs its own outcome). */
static void daemon_reload(struct daemon *d)
{
	struct notify_status st;

	notify_reloading();
	for (unsigned i = 0; i < d->n_reload_hooks; i++)
		d->reload_hooks[i].reload(d->reload_hooks[i].ctx);
	daemon_status(d, &st);
	notify_ready(&st);
}

static void arm_signal(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->ring, &d->signal_op);

	io_uring_prep_read(sqe, d->signal_fd, &d->siginfo, sizeof(d->siginfo), 0);
	io_uring_sqe_set_data(sqe, &d->signal_op);
}

static const char *signal_name(uint32_t sig)
{
	switch (sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	case SIGUSR1: return "SIGUSR1";
	case SIGUSR2: return "SIGUSR2";
	default: return "?";
	}
}

/* Every signal the daemon takes is logged once, with what it does about it. */
static void on_signal(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct daemon *d = container_of(op, struct daemon, signal_op);
	uint32_t sig = d->siginfo.ssi_signo;

	if (cqe->res != (int)sizeof(d->siginfo)) {
		arm_signal(d);
		return;
	}
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("shutdown", "signal=%s pid=%u", signal_name(sig), d->siginfo.ssi_pid);
		snprintf(d->stop_why, sizeof(d->stop_why), "%s", signal_name(sig));
		d->stop = true;
		return;
	case SIGHUP:
		log_info("signal", "signal=SIGHUP pid=%u action=reload", d->siginfo.ssi_pid);
		daemon_reload(d);
		break;
	default:
		log_info("signal", "signal=%s pid=%u action=ignored", signal_name(sig),
			 d->siginfo.ssi_pid);
		break;
	}
	arm_signal(d);
}

static unsigned reap_completions(struct daemon *d)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		struct io_uring_cqe copy = *cqe;
		/* a doorbell is no work by itself: the requests it announces count when they are
		 * served, so ringing without publishing cannot keep the loop polling */
		bool bell = connections_op_is_doorbell(op);

		/* mark it seen first: the handler may queue new requests that need CQ room */
		io_uring_cqe_seen(&d->ring, cqe);
		if (op)
			op->complete(op, &copy);
		n += !bell;
	}
	return n;
}

int daemon_run(struct daemon *d)
{
	uint64_t spin_ns = (uint64_t)d->opts.spin_us * 1000u, idle_since = 0;
	unsigned idle_polls = 0;
	bool worked = false;

	struct notify_status st;
	int r;

	connections_start(d->conns);
	arm_signal(d);
	probe_source_arm(d->probe, &d->ring);
	vf_config_scan(d->vfc);
	/* ready: host discovered, journal replayed, every part started. Only now does the
	 * socket get its name (a script waiting for it finds a daemon that serves), then the
	 * service manager hears READY=1. */
	r = control_publish(d->run_dir_fd);
	if (r) {
		log_err("start_failed", "socket=%s/%s error=\"%s\"", d->opts.run_dir,
			VFPOOL_CTL_SOCKET, strerror(-r));
		return r;
	}
	daemon_status(d, &st);
	notify_ready(&st);
	log_info("ready", "run_dir=%s pfs=%zu vfs=%zu spin_us=%u max_clients=%u",
		 d->opts.run_dir, d->host->n_pfs, d->host->n_vfs, d->opts.spin_us, d->max_clients);
	while (!d->stop) {
		unsigned did = reap_completions(d);

		did += connections_serve(d->conns);
		/* one group commit for everything this turn changed; completions follow it */
		lease_durable_flush(d->durable);

		if (io_uring_sq_ready(&d->ring))
			io_uring_submit(&d->ring);
		if (did) {
			idle_since = 0;
			idle_polls = 0;
			worked = true;
			continue;
		}
		/* the clock is read every 64 idle polls: a poll pass is a few ns, the clock ~20 */
		if (spin_ns && (++idle_polls & 63) != 0)
			continue;
		if (spin_ns) {
			uint64_t now = clock_ns(CLOCK_MONOTONIC);

			if (!idle_since)
				idle_since = now;
			if (now - idle_since < spin_ns) {
				seqlock_cpu_relax();
				continue;
			}
		}
		/* after work, one yield before sleeping: a client on this CPU reads its answer
		 * and posts its next request while the loop is still awake (no doorbell, no
		 * wake); with no one else to run the yield returns at once */
		if (worked) {
			worked = false;
			sched_yield();
			continue;
		}
		/* what it serves changes with work: said before each sleep, when it changed */
		daemon_status(d, &st);
		notify_status(&st);
		/* every client is told the loop sleeps, or none: one with work keeps it awake */
		if (!connections_prepare_sleep(d->conns)) {
			connections_awake(d->conns);
			idle_since = 0;
			continue;
		}
		io_uring_submit_and_wait(&d->ring, 1);
		connections_awake(d->conns);
		/* the spin window restarts only with work: a wake that brings none (a doorbell
		 * rung for nothing) goes back to sleep without spinning spin_us first */
		idle_polls = 0;
	}
	notify_stopping(d->failed ? "leases can no longer be made durable" :
			d->stop_why[0] ? d->stop_why : "stopped");
	return d->failed ? -EIO : 0;
}

/* The host: simulated, or discovered through libudev with a watch that keeps it current
 * (the watch listens before it discovers, so no change in between is missed). */
static int daemon_open_host(struct daemon *d)
{
	int r;

	if (d->opts.simulate_pfs) {
		r = host_simulate(d->opts.simulate_pfs, d->opts.simulate_vfs, &d->host);
		if (r)
			log_err("start_failed", "host=simulated error=\"%s\"", strerror(-r));
		return r;
	}
	{
		struct pf_selectors *sel = malloc(sizeof(*sel));

		if (!sel)
			return -ENOMEM;
		r = pf_selectors_load(d->opts.state_dir, sel); /* logs why */
		if (r) {
			free(sel);
			return r;
		}
		r = host_watch_open(sel, &d->host_watch, &d->host);
		free(sel);
	}
	if (r) {
		log_err("start_failed", "reason=\"host discovery through libudev: %s\"",
			strerror(-r));
		return r;
	}
	if (host_watch_unmanaged_pfs(d->host_watch))
		log_info("pf_selectors", "unmanaged_pfs=%u reason=\"outside the PF selectors\"",
			 host_watch_unmanaged_pfs(d->host_watch));
	/* a uniform fleet rollout reaches hosts without SR-IOV too: serve an empty pool (every
	 * allocation says why) rather than leave a failing unit */
	if (d->host->n_pfs == 0)
		log_warn("no_sriov_pf", "reason=\"no SR-IOV PF on this host (%s): serving an "
			 "empty pool\"", host_watch_unmanaged_pfs(d->host_watch) ?
			 "every one is outside the PF selectors" :
			 "no PCI device has sriov_totalvfs");
	return 0;
}

/* The run dir and the state dir, trusted as systemd trusts its own (core/safe_dir.h):
 * created when missing (the run dir 0750 with the socket group, so its members reach the
 * socket and the state segment; the state dir 0750), refused when another user controls
 * them. From here on the daemon uses their resolved paths. */
static int daemon_open_dirs(struct daemon *d)
{
	char why[512];
	int fd;

	fd = safe_dir_open(d->opts.run_dir, "run dir", 0750, d->opts.socket_gid, d->run_dir_real,
			   sizeof(d->run_dir_real), why, sizeof(why));
	if (fd < 0) {
		log_err("start_failed", "error=\"%s\"", why);
		return fd;
	}
	d->run_dir_fd = fd;
	fd = safe_dir_open(d->opts.state_dir, "state dir", 0750, (gid_t)-1, d->state_dir_real,
			   sizeof(d->state_dir_real), why, sizeof(why));
	if (fd < 0) {
		log_err("start_failed", "error=\"%s\"", why);
		return fd;
	}
	close(fd); /* its stores open it by path (the resolved one) when they write */
	d->opts.run_dir = d->run_dir_real;
	d->opts.state_dir = d->state_dir_real;
	return 0;
}

/* The loop's ring, sized for every client's requests in flight. */
static int daemon_open_ring(struct daemon *d)
{
	struct io_uring_params p = { 0 };
	int r;

	r = io_uring_queue_init_params(2 * d->max_clients + 64, &d->ring, &p);
	if (r) {
		log_err("start_failed", "io_uring error=\"%s\"", strerror(-r));
		return r;
	}
	d->ring_ready = true;
	/* without the doorbells the loop would spin on failed waits: refuse to start */
	if (!connections_ring_supported(&d->ring)) {
		log_err("start_failed", "reason=\"the kernel lacks IORING_OP_FUTEX_WAIT "
			"(needs Linux 6.7 or later)\"");
		return -EOPNOTSUPP;
	}
	return 0;
}

static void on_durability_lost(void *ctx)
{
	struct daemon *d = ctx;

	d->failed = 1;
	d->stop = true;
}

static int on_command(void *ctx, const struct ctl_peer *peer, uint32_t seq, const char *payload,
		      uint32_t len)
{
	struct daemon *d = ctx;

	return ctl_dispatch(&d->commands, peer, seq, payload, len);
}

/* A PF found after start has joined the segment and the model: the policy takes it. */
static void on_host_applied(struct host_watch_listener *l, const struct host *model)
{
	struct daemon *d = container_of(l, struct daemon, grow);

	if (model->n_pfs > d->policy.n_pfs)
		policy_daemon_grow(&d->policy_cmd, model);
}

/* The control commands, in the order `help` lists them. */
static int daemon_register_commands(struct daemon *d)
{
	int r;

	d->lease_cmd.engine = &d->engine;
	d->lease_cmd.durable = d->durable;
	r = ctl_register(&d->commands, ctl_core_commands, NULL);
	if (!r)
		r = ctl_register(&d->commands, policy_commands, &d->policy_cmd);
	if (!r)
		r = ctl_register(&d->commands, lease_commands, &d->lease_cmd);
	if (!r)
		r = ctl_register(&d->commands, numvfs_commands, d->numvfs);
	d->pf_select = (struct pf_select_cmd_ctx){ .watch = d->host_watch, .engine = &d->engine,
						   .state_dir = d->opts.state_dir };
	if (!r)
		r = ctl_register(&d->commands, pf_select_commands, &d->pf_select);
	return r;
}

static int reload_policy(void *ctx)
{
	return policy_daemon_reload(ctx);
}

static int reload_pf_selectors(void *ctx)
{
	return pf_selectors_reload(ctx);
}

void daemon_signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGUSR1);
	sigaddset(mask, SIGUSR2);
}

int daemon_new(const struct daemon_opts *opts, struct daemon **ret_daemon)
{
	struct daemon *d = calloc(1, sizeof(*d));
	sigset_t mask;
	int r;

	if (!d)
		return -ENOMEM;
	d->opts = *opts;
	d->max_clients = opts->max_clients ? opts->max_clients : 256;
	d->run_dir_fd = -1;
	d->lock_fd = -1;
	d->listen_fd = -1;
	d->signal_fd = -1;
	d->signal_op.complete = on_signal;
	/* the dirs first: the host's PF selectors live in the state dir */
	r = daemon_open_dirs(d);
	if (r)
		goto fail;
	opts = &d->opts; /* the verified paths from here on */
	r = daemon_open_host(d);
	if (r)
		goto fail;
	/* before anything in the run dir is touched: the journal has one writer */
	r = control_lock_run_dir(d->run_dir_fd, &d->lock_fd);
	if (r) {
		log_err("start_failed", "run_dir=%s lock=%s error=\"%s\"", opts->run_dir,
			VFPOOL_LOCK_FILE,
			r == -EADDRINUSE ? "another vfpoold runs on this run dir" :
			r == -ELOOP ? "a symlink, not followed" :
			r == -EINVAL ? "not a regular file" : strerror(-r));
		goto fail;
	}
	/* the ring before every part that keeps it (what they queue is submitted by the loop) */
	r = daemon_open_ring(d);
	if (r)
		goto fail;
	{
		char why[256];

		/* a watched host keeps room for PFs that come later; a simulated one never grows */
		struct state_room room = {
			.pfs = opts->max_pfs ? opts->max_pfs : STATE_ROOM_DEFAULT_PFS,
			.vfs = opts->max_vfs ? opts->max_vfs : STATE_ROOM_DEFAULT_VFS,
		};

		r = state_seg_create(d->run_dir_fd, opts->socket_gid, d->host,
				     d->host_watch ? &room : NULL, &d->seg, why, sizeof(why));
		if (r) {
			log_err("start_failed", "file=%s/state error=\"%s\"", opts->run_dir, why);
			goto fail;
		}
	}
	/* before anyone can connect: the kernel accepts into the backlog as soon as the socket
	 * listens, so a reader may look before the loop runs */
	d->seg->hdr->host_kind = d->host_watch ? VFPOOL_HOST_UDEV : VFPOOL_HOST_SIMULATED;
	r = engine_init(&d->engine, d->seg->hdr);
	if (r)
		goto fail;
	d->engine.max_leases_per_vm = opts->max_leases_per_vm;
	d->engine.placement = (enum placement_mode)opts->placement;
	{
		struct policy_cmd_ctx pc = { .engine = &d->engine, .policy = &d->policy,
					     .seg = d->seg, .state_dir = opts->state_dir };

		r = policy_daemon_start(&pc, d->host);
		if (r)
			goto fail;
		d->policy_cmd = pc;
	}
	/* leases come back from the journal before the socket exists: a client (or a test)
	 * that can connect sees every lease (the ring is only used once the loop runs).
	 * The journal lives in the run dir: a lease is a VM's, and VMs do not outlive the
	 * host, so it must survive daemon crashes and restarts (tmpfs does) but not a reboot
	 * (after which a stale lease would pin a VF nobody uses). Policy and numvfs, which
	 * must survive reboots, stay in the state dir. */
	r = lease_durable_start(&d->engine, &d->ring, opts->run_dir, on_durability_lost, d,
				&d->durable);
	if (r)
		goto fail;
	/* before the socket listens: a client's first snapshot already has the probe's view */
	r = probe_source_new(&d->engine, opts->probe_mode, opts->busy_when_up, &d->probe);
	if (r)
		goto fail;
	r = control_listen(d->run_dir_fd, opts->run_dir, opts->socket_gid, &d->listen_fd);
	if (r) {
		log_err("start_failed", "socket=%s/%s error=\"%s\"", opts->run_dir,
			VFPOOL_CTL_SOCKET, strerror(-r));
		goto fail;
	}
	daemon_signal_mask(&mask);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d->signal_fd < 0) {
		r = -errno;
		goto fail;
	}
	{
		struct vf_config_opts vo = { .mode = (enum vf_config_mode)opts->vf_config_mode,
					     .timeout_ms = opts->vf_config_timeout_ms, .nl_fd = -1 };

		r = vf_config_new(&d->ring, &d->engine, &vo, &d->vfc);
		if (r) {
			log_err("start_failed", "vf_config error=\"%s\"", strerror(-r));
			goto fail;
		}
	}
	{
		struct vfio_owner_opts fo = { .ring = &d->ring, .engine = &d->engine,
					      .run_dir_fd = d->run_dir_fd };

		r = vfio_owner_new(&fo, &d->vfio);
		if (r)
			goto fail;
		/* the journal gave the leases back: a binding a crash cut short is finished
		 * or rolled back before anyone can ask for its VF */
		vfio_owner_recover(d->vfio);
	}
	r = pid_watch_start(&d->engine, d->durable, &d->ring, &d->pid_watch);
	if (r)
		goto fail;
	{
		struct lease_sweep_opts so = { .ring = &d->ring, .engine = &d->engine,
					       .durable = d->durable, .stop = &d->stop,
					       .interval_s = opts->sweep_interval_s,
					       .release = opts->sweep_release };

		r = lease_sweep_start(&so, &d->sweep);
		if (r)
			goto fail;
	}
	r = heartbeat_start(&d->ring, d->seg->hdr, &d->stop, &d->heartbeat);
	if (r)
		goto fail;
	if (d->host_watch) {
		d->grow.applied = on_host_applied;
		host_watch_listen(d->host_watch, &d->grow);
	}
	if (d->host_watch) {
		struct host_watch_loop lp = { .ring = &d->ring, .engine = &d->engine,
					      .model = &d->host, .probe = d->probe,
					      .stop = &d->stop };

		host_watch_attach(d->host_watch, &lp);
	}
	{
		struct numvfs_cmd_opts no = { .ring = &d->ring, .engine = &d->engine,
					      .model = &d->host, .watch = d->host_watch,
					      .state_dir = opts->state_dir,
					      .timeout_ms = opts->numvfs_timeout_ms };

		r = numvfs_cmd_new(&no, &d->numvfs);
		if (r)
			goto fail;
	}
	r = daemon_register_commands(d);
	/* the selectors first: PFs they add join the policy through the host watch */
	if (!r && d->host_watch)
		r = daemon_add_reload_hook(d, "pf-selectors", reload_pf_selectors, &d->pf_select);
	if (!r)
		r = daemon_add_reload_hook(d, "policy", reload_policy, &d->policy_cmd);
	if (r)
		goto fail;
	{
		struct connections_opts co = {
			.ring = &d->ring, .engine = &d->engine, .seg = d->seg,
			.listen_fd = d->listen_fd, .run_dir = opts->run_dir,
			.max_clients = d->max_clients,
			.max_clients_per_uid = opts->max_clients_per_uid,
			.reserved_clients = opts->reserved_clients,
			.handshake_timeout_ms = opts->handshake_timeout_ms,
			.ring_memory_max = (uint64_t)opts->ring_memory_mib << 20,
			.admin_gid = opts->admin_gid, .stop = &d->stop,
			.command = on_command, .command_ctx = d,
		};

		r = connections_new(&co, &d->conns);
		if (r)
			goto fail;
	}
	*ret_daemon = d;
	return 0;
fail:
	daemon_free(d);
	return r;
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	/* first: cancels everything still in flight, whose requests point into the parts */
	if (d->ring_ready)
		io_uring_queue_exit(&d->ring);
	/* then the parts, in the reverse of their creation */
	connections_free(d->conns);
	numvfs_cmd_free(d->numvfs);
	heartbeat_free(d->heartbeat);
	lease_sweep_free(d->sweep);
	pid_watch_free(d->pid_watch);
	vfio_owner_free(d->vfio);
	vf_config_free(d->vfc); /* posts nothing: the connections are gone */
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		control_unlink(d->run_dir_fd);
	}
	probe_source_free(d->probe);
	lease_durable_free(d->durable);
	if (d->policy_cmd.engine)
		policy_daemon_stop(&d->policy_cmd);
	engine_fini(&d->engine);
	state_seg_destroy(d->seg);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->run_dir_fd >= 0)
		close(d->run_dir_fd);
	host_watch_free(d->host_watch);
	host_free(d->host);
	free(d);
}
