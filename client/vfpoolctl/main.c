/* SPDX-License-Identifier: MIT */
/* vfpoolctl: the operator's tool. Reads the daemon's snapshot; asks it for changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vfpoolctl [--run-dir DIR] [--json] COMMAND [ARGS]\n"
		"Commands:\n"
		"  snapshot [--all]                 PFs, VFs, leases (from the state segment)\n"
		"  watch [--interval MS] [--count N] [--all]  the snapshot, redrawn until Ctrl-C\n"
		"  pf list | pf show PF             PFs and their VFs (from the state segment)\n"
		"  lease list [--vm VM]             leases (from the state segment)\n"
		"  metrics [--textfile DIR]         Prometheus text format (DIR/vfpool.prom)\n"
		"  alloc VM VNIC NETWORK [--mac MAC] [--pin PCI] [--numa N]\n"
		"        [--format text|libvirt|qemu]\n"
		"  release VM VNIC [GENERATION]\n"
		"  capacity [--network N]           free VFs per network, PF and NUMA node\n"
		"  doctor                           can this host do SR-IOV passthrough? (local;\n"
		"                                   exit 0 pass, 1 warn, 2 fail)\n"
		"  help                             the daemon's own commands\n"
		"  ANY OTHER COMMAND                passed to the daemon (see help)\n"
		"Exit status: 0 success, 1 failure (the message says which object and why),\n"
		"2 usage error. See vfpoolctl(8) for the --json schemas.\n");
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(const struct ctl_opts *); } cmds[] = {
		{ "snapshot", cmd_snapshot }, { "alloc", cmd_alloc }, { "release", cmd_release },
		{ "watch", cmd_watch }, { "pf", cmd_pf }, { "lease", cmd_lease },
		{ "metrics", cmd_metrics },
		{ "capacity", cmd_capacity },
		{ "doctor", cmd_doctor },
	};
	struct ctl_opts o = { .run_dir = getenv("VFPOOL_RUN_DIR") };
	int i = 1;

	if (!o.run_dir)
		o.run_dir = VFPOOL_DEFAULT_RUN_DIR;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--run-dir") == 0 && i + 1 < argc) {
			o.run_dir = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CTL_EXIT_OK;
		} else {
			fprintf(stderr, "vfpoolctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		if (strcmp(argv[i], cmds[c].name) != 0)
			continue;
		o.argc = argc - i - 1;
		o.argv = argv + i + 1;
		/* command options that apply everywhere may also follow the command */
		for (int k = 0; k < o.argc; k++) {
			if (strcmp(o.argv[k], "--json") == 0 || strcmp(o.argv[k], "--all") == 0) {
				if (o.argv[k][2] == 'j')
					o.json = true;
				else
					o.all = true;
				memmove(&o.argv[k], &o.argv[k + 1], (size_t)(o.argc - k - 1) * sizeof(char *));
				o.argc--;
				k--;
			}
		}
		return cmds[c].fn(&o);
	}
	/* everything else is the daemon's: it knows its commands and checks rights */
	o.argc = argc - i;
	o.argv = argv + i;
	return cmd_daemon(&o);
}
