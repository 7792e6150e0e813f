/* SPDX-License-Identifier: MIT */
/* vfpoolctl metrics [--textfile DIR]: Prometheus text on stdout, or written atomically to
 * DIR/vfpool.prom for node_exporter's textfile collector (which must never read half a
 * file: write DIR/vfpool.prom.PID, fsync, rename over, fsync DIR). When vfpoold is not
 * running only vfpool_up 0 is exported, never a dead daemon's last gauges, and the exit
 * status is 1; the textfile is replaced all the same, so the collector stops serving the
 * last live figures. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/metrics.h"

/* s NULL: the daemon is not running. */
static int write_metrics(FILE *f, const struct vfpool_snapshot *s)
{
	if (!s) {
		metrics_write_down(f);
		return 0;
	}
	return metrics_write(f, s);
}

static int write_textfile(const char *dir, const struct vfpool_snapshot *s)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	FILE *f = NULL;
	int fd, r;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/vfpool.prom", dir) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%d", dst, (int)getpid()) >= sizeof(tmp)) {
		fprintf(stderr, "vfpoolctl metrics: --textfile %s: path too long\n", dir);
		return CTL_EXIT_USAGE;
	}
	/* a leftover of a killed run with our pid goes first; never write through a link */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "vfpoolctl metrics: %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return CTL_EXIT_FAIL;
	}
	r = write_metrics(f, s);
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
	/* and the rename durable: after a crash the collector finds this file, not the last */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return CTL_EXIT_OK;
}

int cmd_metrics(const struct ctl_opts *o)
{
	const char *dir = NULL;
	struct vfpool_snapshot *s = NULL;
	struct vfpool_liveness l;
	int r, status;

	if (o->argc == 2 && strcmp(o->argv[0], "--textfile") == 0) {
		dir = o->argv[1];
	} else if (o->argc != 0) {
		fprintf(stderr, "usage: vfpoolctl metrics [--textfile DIR]\n");
		return CTL_EXIT_USAGE;
	}
	r = vfpool_snapshot_take_last(o->run_dir, &s);
	if (r == -ECONNREFUSED) {
		/* no state at all: no daemon has run here since boot */
		fprintf(stderr, "vfpoolctl metrics: %s/state: %s\n", o->run_dir, vfpool_strerror(r));
	} else if (r) {
		/* we cannot tell whether it runs (no access, a damaged segment): say nothing */
		fprintf(stderr, "vfpoolctl metrics: %s/state: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	} else if (vfpool_snapshot_liveness(s, &l) == 0 && !l.running) {
		ctl_print_not_running("metrics", s);
		vfpool_snapshot_free(s);
		s = NULL;
	}
	if (dir) {
		status = write_textfile(dir, s);
	} else {
		r = write_metrics(stdout, s);
		status = r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
		if (r)
			fprintf(stderr, "vfpoolctl metrics: %s\n", strerror(-r));
	}
	if (!s)
		return CTL_EXIT_FAIL; /* vfpool_up 0 exported; the daemon is down */
	vfpool_snapshot_free(s);
	return status;
}
