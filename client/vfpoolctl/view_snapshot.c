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

bool ctl_daemon_down(const struct vfpool_snapshot *s, char *buf, size_t len)
{
	struct vfpool_liveness l = VFPOOL_OPTS(vfpool_liveness);
	char when[64];

	if (vfpool_snapshot_liveness(s, &l) < 0 || l.running)
		return false;
	ctl_format_time(when, sizeof(when), l.heartbeat_ns);
	snprintf(buf, len, "vfpoold is not running (last state from %s); %s", when, l.why);
	return true;
}

int ctl_not_running(const struct ctl *c, const struct vfpool_snapshot *s)
{
	char msg[256];

	if (!ctl_daemon_down(s, msg, sizeof(msg)))
		return CTL_EXIT_OK;
	return ctl_fail(c, -EOWNERDEAD, "%s", msg);
}

int ctl_snapshot(const struct ctl *c, struct vfpool_snapshot **ret_s)
{
	struct vfpool_snapshot *s;
	/* the last state too, so that a dead daemon is named with its time and pid */
	int r = vfpool_snapshot_take_last(c->run_dir, &s);

	if (r == -ECONNREFUSED)
		return ctl_fail(c, r, "no vfpoold serving %s (no state segment there)", c->run_dir);
	if (r)
		return ctl_fail(c, r, "%s/state: %s", c->run_dir, vfpool_strerror(r));
	r = ctl_not_running(c, s);
	if (r) {
		vfpool_snapshot_free(s);
		return r;
	}
	*ret_s = s;
	return 0;
}
