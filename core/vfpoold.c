/* SPDX-License-Identifier: MIT */
/* vfpoold: the per-host authority over SR-IOV virtual functions. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/parse_uint.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/model/host.h"
#include "core/model/placement.h"
#include "core/numvfs/numvfs_boot.h"
#include "core/probe/probe_source.h"
#include "core/safe_dir.h"
#include "core/vfconfig/vf_config.h"

#ifndef VFPOOL_VERSION
#define VFPOOL_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vfpoold [OPTIONS]\n"
		"  --simulate NxM      serve a simulated host of N PFs x M VFs (no hardware, no root);\n"
		"                      without it the host is discovered through libudev\n"
		"  --restore-numvfs    one-shot at boot: set every persisted PF's numvfs, then exit\n"
		"  --numvfs-timeout-ms N  bound on each step of a numvfs change (default 120000)\n"
		"  --restore-wait-ms N  with --restore-numvfs: wait up to N ms for persisted PFs\n"
		"                      not present yet, watching udev (default 30000)\n"
		"  --run-dir DIR       control socket and state segment (default /run/vfpool)\n"
		"  --state-dir DIR     persistent state (default /var/lib/vfpool; with --simulate,\n"
		"                      the run dir: a simulated host's state is not the real one's)\n"
		"  --spin-us N         poll N microseconds after the last request before sleeping\n"
		"                      (default 50; 0 sleeps at once)\n"
		"  --max-clients N     concurrent client connections (default 256)\n"
		"  --max-clients-per-uid N  connections one uid may hold; root is exempt\n"
		"                      (default: a quarter of --max-clients)\n"
		"  --reserved-clients N  the last N slots are only for root and the admin group\n"
		"                      (default: max(4, max-clients/16), at most half of them)\n"
		"  --handshake-timeout-ms N  a connection must say hello within N ms (default 2000)\n"
		"  --ring-memory MIB   shared memory all client rings may take together (default 64)\n"
		"  --socket-group G    group owning the control socket (mode 0660)\n"
		"  --admin-group G     members may change configuration (default: root only)\n"
		"  --probe MODE        link-event probe: bpf (default; falls back when the filter\n"
		"                      cannot load), fallback (filter in userspace), off\n"
		"  --busy-when-up      a VF netdev that is up on the host is host-busy (default:\n"
		"                      allocatable, shown as \"up on the host, not leased\")\n"
		"  --max-leases-per-vm N  refuse a VM's allocation past N leases (default: no limit)\n"
		"  --placement MODE    spread (default: a VM's vNICs on different PFs, the PF with\n"
		"                      most free VFs) or pack (the PF with fewest free VFs first)\n"
		"  --log-level L       err, warn, info (default), debug\n"
		"  --vf-config M       auto (default: when the PF netdev exists), on, off\n"
		"  --vf-config-timeout-ms N  per netlink request (default 2000)\n"
		"  --sweep-interval-s N  check leases every N seconds (default 60)\n"
		"  --max-pfs N         room for N PFs, PFs found after start included (default 32,\n"
		"                      at most 256; the host's own count when larger)\n"
		"  --max-vfs N         room for N VF slots between them (default 4096)\n"
		"  --sweep MODE        report (default) or release leases whose bound process is\n"
		"                      gone or whose VF vanished\n"
		"  --version           print the version and exit\n"
		"  -h, --help\n");
}

/* A numeric option: a plain number in min..max into *ret, or false after saying why. */
static bool number_option(const char *name, const char *arg, unsigned min, unsigned max,
			  unsigned *ret)
{
	unsigned v;

	if (parse_uint(arg, max, &v) || v < min) {
		fprintf(stderr, "vfpoold: --%s %s: not a number in %u..%u\n", name, arg, min, max);
		return false;
	}
	*ret = v;
	return true;
}

/* A group option: the group's id into *ret, or false after saying why. */
static bool group_option(const char *name, const char *arg, gid_t *ret)
{
	struct group *g = getgrnam(arg);

	if (!g) {
		fprintf(stderr, "vfpoold: --%s %s: no such group\n", name, arg);
		return false;
	}
	*ret = g->gr_gid;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "simulate", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "spin-us", required_argument, NULL, 'p' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "max-clients-per-uid", required_argument, NULL, 'u' },
		{ "reserved-clients", required_argument, NULL, 'e' },
		{ "handshake-timeout-ms", required_argument, NULL, 'H' },
		{ "ring-memory", required_argument, NULL, 'M' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "admin-group", required_argument, NULL, 'a' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "probe", required_argument, NULL, 'P' },
		{ "busy-when-up", no_argument, NULL, 'U' },
		{ "vf-config", required_argument, NULL, 'V' },
		{ "vf-config-timeout-ms", required_argument, NULL, 'T' },
		{ "max-leases-per-vm", required_argument, NULL, 'Q' },
		{ "placement", required_argument, NULL, 'L' },
		{ "restore-numvfs", no_argument, NULL, 'R' },
		{ "numvfs-timeout-ms", required_argument, NULL, 'N' },
		{ "restore-wait-ms", required_argument, NULL, 'A' },
		{ "sweep-interval-s", required_argument, NULL, 'W' },
		{ "sweep", required_argument, NULL, 'w' },
		{ "max-pfs", required_argument, NULL, 'X' },
		{ "max-vfs", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct daemon_opts opts = {
		.run_dir = "/run/vfpool", .spin_us = 50,
		.max_clients = 256, .reserved_clients = -1, .socket_gid = (gid_t)-1,
		.admin_gid = (gid_t)-1,
		.probe_mode = VFPOOL_PROBE_BPF,
	};
	const char *simulate = NULL;
	struct daemon *d = NULL;
	bool restore = false;
	unsigned restore_wait_ms = NUMVFS_RESTORE_WAIT_MS;
	sigset_t mask;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': simulate = optarg; break;
		case 'r': opts.run_dir = optarg; break;
		case 'S': opts.state_dir = optarg; break;
		case 'p':
			if (!number_option("spin-us", optarg, 0, 10000000, &opts.spin_us))
				return 2;
			break;
		case 'X':
			if (!number_option("max-pfs", optarg, 1, 256, &opts.max_pfs))
				return 2;
			break;
		case 'Y':
			if (!number_option("max-vfs", optarg, 1, 1u << 22, &opts.max_vfs))
				return 2;
			break;
		case 'V': {
			enum vf_config_mode mode;

			if (vf_config_parse_mode(optarg, &mode)) {
				fprintf(stderr, "vfpoold: --vf-config %s: use auto, on or off\n", optarg);
				return 2;
			}
			opts.vf_config_mode = (int)mode;
			break;
		}
		case 'T':
			if (!number_option("vf-config-timeout-ms", optarg, 1, 600000,
					   &opts.vf_config_timeout_ms))
				return 2;
			break;
		case 'H':
			if (!number_option("handshake-timeout-ms", optarg, 1, 600000,
					   &opts.handshake_timeout_ms))
				return 2;
			break;
		case 'm':
			if (!number_option("max-clients", optarg, 1, 65536, &opts.max_clients))
				return 2;
			break;
		case 'M':
			if (!number_option("ring-memory", optarg, 1, 1048576, &opts.ring_memory_mib))
				return 2;
			break;
		case 'u':
			if (!number_option("max-clients-per-uid", optarg, 1, 65536,
					   &opts.max_clients_per_uid))
				return 2;
			break;
		case 'e': {
			unsigned v;

			if (!number_option("reserved-clients", optarg, 0, 65536, &v))
				return 2;
			opts.reserved_clients = (int)v;
			break;
		}
		case 'g':
			if (!group_option("socket-group", optarg, &opts.socket_gid))
				return 2;
			break;
		case 'a':
			if (!group_option("admin-group", optarg, &opts.admin_gid))
				return 2;
			break;
		case 'l': {
			enum log_level lvl;

			if (log_parse_level(optarg, &lvl)) {
				fprintf(stderr, "vfpoold: --log-level %s: use err, warn, info or debug\n", optarg);
				return 2;
			}
			log_set_level(lvl);
			break;
		}
		case 'P':
			if (probe_source_parse_mode(optarg, &opts.probe_mode)) {
				fprintf(stderr, "vfpoold: --probe %s: use bpf, fallback or off\n", optarg);
				return 2;
			}
			break;
		case 'U': opts.busy_when_up = true; break;
		case 'Q':
			if (!number_option("max-leases-per-vm", optarg, 1, 1u << 24,
					   &opts.max_leases_per_vm))
				return 2;
			break;
		case 'L': {
			enum placement_mode m;

			if (placement_parse_mode(optarg, &m)) {
				fprintf(stderr, "vfpoold: --placement %s: use spread or pack\n", optarg);
				return 2;
			}
			opts.placement = (int)m;
			break;
		}
		case 'R': restore = true; break;
		case 'N':
			if (!number_option("numvfs-timeout-ms", optarg, 1, 86400000,
					   &opts.numvfs_timeout_ms))
				return 2;
			break;
		case 'A':
			if (!number_option("restore-wait-ms", optarg, 0, 86400000, &restore_wait_ms))
				return 2;
			break;
		case 'W':
			if (!number_option("sweep-interval-s", optarg, 1, 86400,
					   &opts.sweep_interval_s))
				return 2;
			break;
		case 'w':
			if (strcmp(optarg, "report") && strcmp(optarg, "release")) {
				fprintf(stderr, "vfpoold: --sweep %s: not report or release\n", optarg);
				return 2;
			}
			opts.sweep_release = strcmp(optarg, "release") == 0;
			break;
		case 'h': usage(stdout); return 0;
		case 'v': printf("vfpoold %s\n", VFPOOL_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vfpoold: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* after every flag: the order they came in does not matter */
	if (!opts.state_dir)
		opts.state_dir = simulate ? opts.run_dir : "/var/lib/vfpool";
	if (opts.reserved_clients > (int)opts.max_clients) {
		fprintf(stderr, "vfpoold: --reserved-clients %d: more than --max-clients %u\n",
			opts.reserved_clients, opts.max_clients);
		return 2;
	}
	if (restore) {
		/* root writes sysfs from what the store says: only from a directory it trusts
		 * (core/safe_dir.h); a missing one is nothing to restore */
		char why[512];
		int fd = safe_dir_open(opts.state_dir, "state dir", 0, (gid_t)-1, NULL, 0, why,
				       sizeof(why));

		if (fd < 0 && fd != -ENOENT) {
			fprintf(stderr, "vfpoold: --restore-numvfs: %s\n", why);
			return 1;
		}
		if (fd >= 0)
			close(fd);
		return numvfs_boot_main(opts.state_dir, opts.numvfs_timeout_ms, restore_wait_ms,
					 stdout, stderr);
	}
	if (simulate &&
	    host_parse_simulate_spec(simulate, &opts.simulate_pfs, &opts.simulate_vfs)) {
		fprintf(stderr, "vfpoold: --simulate %s: expected NxM with N in 1..256, M in 1..65536\n",
			simulate);
		return 2;
	}
	/* signals arrive through the loop's signalfd */
	daemon_signal_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a write past a file size limit is an error to handle (the journal refuses the
	 * change it carried), not a reason to die */
	signal(SIGXFSZ, SIG_IGN);

	r = daemon_new(&opts, &d);
	if (r)
		return 1; /* daemon_new logged why */
	r = daemon_run(d);
	daemon_free(d);
	return r ? 1 : 0;
}
