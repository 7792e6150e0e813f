/* SPDX-License-Identifier: MIT */
/* vfpoolctl metrics [--textfile DIR]: Prometheus text on stdout, or written atomically to
 * DIR/vfpool.prom for node_exporter's textfile collector (which must never read half a
 * file: write DIR/vfpool.prom.PID, fsync, rename over). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/metrics.h"

static int write_textfile(const char *dir, const struct vfpool_snapshot *s)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	FILE *f;
	int r;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/vfpool.prom", dir) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%d", dst, (int)getpid()) >= sizeof(tmp)) {
		fprintf(stderr, "vfpoolctl metrics: --textfile %s: path too long\n", dir);
		return CTL_EXIT_USAGE;
	}
	f = fopen(tmp, "we");
	if (!f) {
		fprintf(stderr, "vfpoolctl metrics: %s: %s\n", tmp, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	r = metrics_write(f, s);
	if (r == 0 && (fflush(f) || fsync(fileno(f))))
		r = -errno;
	if (fclose(f) && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst))
		r = -errno;
	if (r) {
		fprintf(stderr, "vfpoolctl metrics: %s: %s\n", dst, strerror(-r));
		unlink(tmp);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int cmd_metrics(const struct ctl_opts *o)
{
	const char *dir = NULL;
	struct vfpool_snapshot *s;
	int r, status;

	if (o->argc == 2 && strcmp(o->argv[0], "--textfile") == 0) {
		dir = o->argv[1];
	} else if (o->argc != 0) {
		fprintf(stderr, "usage: vfpoolctl metrics [--textfile DIR]\n");
		return CTL_EXIT_USAGE;
	}
	r = vfpool_snapshot_take(o->run_dir, &s);
	if (r) {
		fprintf(stderr, "vfpoolctl metrics: %s/state: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	if (dir) {
		status = write_textfile(dir, s);
	} else {
		r = metrics_write(stdout, s);
		status = r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		if (r)
			fprintf(stderr, "vfpoolctl metrics: %s\n", strerror(-r));
	}
	vfpool_snapshot_free(s);
	return status;
}
