/* SPDX-License-Identifier: MIT */
/* The snapshot behind every view, and what a view says when vfpoold is not running: a
 * dead daemon's last state is never printed as the current one. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "client/vfpoolctl/cmds.h"

void ctl_format_time(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!ns || !localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, len, "an unknown time");
}

void ctl_print_not_running(const char *cmd, const struct vfpool_snapshot *s)
{
	struct vfpool_liveness l;
	char when[64];

	if (vfpool_snapshot_liveness(s, &l) < 0 || l.running)
		return;
	ctl_format_time(when, sizeof(when), l.heartbeat_ns);
	fprintf(stderr, "vfpoolctl %s: vfpoold is not running (last state from %s); %s\n", cmd,
		when, l.why);
}

int ctl_snapshot_take(const struct ctl_opts *o, const char *cmd, struct vfpool_snapshot **ret_snap)
{
	struct vfpool_liveness l;
	struct vfpool_snapshot *s;
	int r = vfpool_snapshot_take_last(o->run_dir, &s);

	if (r) {
		fprintf(stderr, "vfpoolctl %s: %s/state: %s\n", cmd, o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	if (vfpool_snapshot_liveness(s, &l) == 0 && !l.running) {
		ctl_print_not_running(cmd, s);
		vfpool_snapshot_free(s);
		return CTL_EXIT_FAIL;
	}
	*ret_snap = s;
	return CTL_EXIT_OK;
}
