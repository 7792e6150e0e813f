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

#include "core/daemon.h"
#include "core/log.h"
#include "core/model/host.h"
#include "core/numvfs/numvfs_boot.h"
#include "core/probe/probe_source.h"
#include "core/safe_dir.h"
#include "core/vfconfig/vf_config.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vfpoold [OPTIONS]\n"
		"  --simulate NxM      serve a simulated host of N PFs x M VFs (no hardware, no root);\n"
		"                      without it the host is discovered through libudev\n"
		"  --restore-numvfs    one-shot at boot: set every persisted PF's numvfs, then exit\n"
		"  --numvfs-timeout-ms N  bound on each step of a numvfs change (default 120000)\n"
		"  --run-dir DIR       control socket and state segment (default /run/vfpool)\n"
		"  --state-dir DIR     persistent state (default /var/lib/vfpool)\n"
		"  --spin-us N         poll N microseconds after the last request before sleeping\n"
		"                      (default 50; 0 sleeps at once)\n"
		"  --max-clients N     concurrent client connections (default 256)\n"
		"  --handshake-timeout-ms N  a connection must say hello within N ms (default 2000)\n"
		"  --socket-group G    group owning the control socket (mode 0660)\n"
		"  --admin-group G     members may change configuration (default: root only)\n"
		"  --probe MODE        link-event probe: bpf (default; falls back when the filter\n"
		"                      cannot load), fallback (filter in userspace), off\n"
		"  --busy-when-up      a VF netdev that is up on the host is host-busy (default:\n"
		"                      allocatable, shown as \"up on the host, not leased\")\n"
		"  --max-leases-per-vm N  refuse a VM's allocation past N leases (default: no limit)\n"
		"  --log-level L       err, warn, info (default), debug\n"
		"  --vf-config M       auto (default: when the PF netdev exists), on, off\n"
		"  --vf-config-timeout-ms N  per netlink request (default 2000)\n"
		"  --sweep-interval-s N  check leases every N seconds (default 60)\n"
		"  --sweep MODE        report (default) or release leases whose bound process is\n"
		"                      gone or whose VF vanished\n"
		"  -h, --help\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "simulate", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "spin-us", required_argument, NULL, 'p' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "handshake-timeout-ms", required_argument, NULL, 'H' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "admin-group", required_argument, NULL, 'a' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "probe", required_argument, NULL, 'P' },
		{ "busy-when-up", no_argument, NULL, 'U' },
		{ "vf-config", required_argument, NULL, 'V' },
		{ "vf-config-timeout-ms", required_argument, NULL, 'T' },
		{ "max-leases-per-vm", required_argument, NULL, 'Q' },
		{ "restore-numvfs", no_argument, NULL, 'R' },
		{ "numvfs-timeout-ms", required_argument, NULL, 'N' },
		{ "sweep-interval-s", required_argument, NULL, 'W' },
		{ "sweep", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon_opts opts = {
		.run_dir = "/run/vfpool", .state_dir = "/var/lib/vfpool", .spin_us = 50,
		.max_clients = 256, .socket_gid = (gid_t)-1, .admin_gid = (gid_t)-1,
		.probe_mode = VFPOOL_PROBE_BPF,
	};
	const char *simulate = NULL;
	struct daemon *d = NULL;
	bool restore = false;
	sigset_t mask;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': simulate = optarg; break;
		case 'r': opts.run_dir = optarg; break;
		case 'S': opts.state_dir = optarg; break;
		case 'p':
			if (parse_uint(optarg, 10000000, &opts.spin_us)) {
				fprintf(stderr, "vfpoold: --spin-us %s: not a number up to 10000000\n", optarg);
				return 2;
			}
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
			if (parse_uint(optarg, 600000, &opts.vf_config_timeout_ms) ||
			    opts.vf_config_timeout_ms == 0) {
				fprintf(stderr, "vfpoold: --vf-config-timeout-ms %s: not a number in 1..600000\n", optarg);
				return 2;
			}
			break;
		case 'H':
			if (parse_uint(optarg, 600000, &opts.handshake_timeout_ms) ||
			    opts.handshake_timeout_ms == 0) {
				fprintf(stderr, "vfpoold: --handshake-timeout-ms %s: not a number in 1..600000\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			if (parse_uint(optarg, 65536, &opts.max_clients) || opts.max_clients == 0) {
				fprintf(stderr, "vfpoold: --max-clients %s: not a number in 1..65536\n", optarg);
				return 2;
			}
			break;
		case 'g': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				fprintf(stderr, "vfpoold: --socket-group %s: no such group\n", optarg);
				return 2;
			}
			opts.socket_gid = g->gr_gid;
			break;
		}
		case 'a': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				fprintf(stderr, "vfpoold: --admin-group %s: no such group\n", optarg);
				return 2;
			}
			opts.admin_gid = g->gr_gid;
			break;
		}
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
			if (parse_uint(optarg, 1u << 24, &opts.max_leases_per_vm) ||
			    opts.max_leases_per_vm == 0) {
				fprintf(stderr, "vfpoold: --max-leases-per-vm %s: not a number in 1..16777216\n", optarg);
				return 2;
			}
			break;
		case 'R': restore = true; break;
		case 'N':
			if (parse_uint(optarg, 86400000, &opts.numvfs_timeout_ms) ||
			    opts.numvfs_timeout_ms == 0) {
				fprintf(stderr, "vfpoold: --numvfs-timeout-ms %s: not a number in 1..86400000\n",
					optarg);
				return 2;
			}
			break;
		case 'W':
			if (parse_uint(optarg, 86400, &opts.sweep_interval_s) ||
			    opts.sweep_interval_s == 0) {
				fprintf(stderr, "vfpoold: --sweep-interval-s %s: not a number in 1..86400\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			if (strcmp(optarg, "report") && strcmp(optarg, "release")) {
				fprintf(stderr, "vfpoold: --sweep %s: not report or release\n", optarg);
				return 2;
			}
			opts.sweep_release = strcmp(optarg, "release") == 0;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vfpoold: unexpected argument '%s'\n", argv[optind]);
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
		return numvfs_boot_main(opts.state_dir, opts.numvfs_timeout_ms, stdout, stderr);
	}
	if (simulate &&
	    host_parse_simulate_spec(simulate, &opts.simulate_pfs, &opts.simulate_vfs)) {
		fprintf(stderr, "vfpoold: --simulate %s: expected NxM with N in 1..256, M in 1..65536\n",
			simulate);
		return 2;
	}
	/* signals arrive through the loop's signalfd */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
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
