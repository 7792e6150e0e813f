/* SPDX-License-Identifier: MIT */
/* vfpoolctl watch: the snapshot table, redrawn in place until Ctrl-C. Each frame is one
 * snapshot refresh (a copy of the state segment; the daemon is never asked anything). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/opt_num.h"

#define WATCH_DEFAULT_MS 1000u
#define WATCH_MAX_MS     3600000u

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	/* EINTR (Ctrl-C) ends the sleep early: the loop then sees the flag */
	nanosleep(&ts, NULL);
}

int cmd_watch(const struct ctl_opts *o)
{
	struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: wake the sleep */
	unsigned interval = WATCH_DEFAULT_MS, count = 0, frames = 0;
	struct vfpool_snapshot *s;
	int r;

	for (int i = 0; i < o->argc; i++) {
		unsigned *dst = NULL, min = 1, max = WATCH_MAX_MS;

		if (strcmp(o->argv[i], "--interval") == 0)
			dst = &interval, min = 10;
		else if (strcmp(o->argv[i], "--count") == 0)
			dst = &count, max = 1000000;
		if (!dst || i + 1 >= o->argc || ctl_parse_uint(o->argv[i + 1], min, max, dst)) {
			fprintf(stderr, "usage: vfpoolctl watch [--interval MS (10..%u)] [--count N]\n",
				WATCH_MAX_MS);
			return CTL_EXIT_USAGE;
		}
		i++;
	}
	if (ctl_snapshot_take(o, "watch", &s))
		return CTL_EXIT_FAIL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		/* home, clear screen: the frame replaces the last one instead of scrolling */
		printf("\033[H\033[2J");
		printf("vfpoolctl watch: %s, every %u ms (Ctrl-C quits)\n", o->run_dir, interval);
		snapshot_print_table(stdout, s, o->all);
		fflush(stdout);
		if ((count && ++frames >= count) || interrupted)
			break;
		sleep_ms(interval);
		if (interrupted)
			break;
		r = vfpool_snapshot_refresh(s);
		if (r == 0) {
			struct vfpool_liveness l;

			/* the daemon died while watched: its last frame stays, this says why */
			if (vfpool_snapshot_liveness(s, &l) == 0 && !l.running) {
				ctl_print_not_running("watch", s);
				vfpool_snapshot_free(s);
				return CTL_EXIT_FAIL;
			}
		} else {
			fprintf(stderr, "vfpoolctl watch: %s/state: %s\n", o->run_dir, vfpool_strerror(r));
			vfpool_snapshot_free(s);
			return CTL_EXIT_FAIL;
		}
	}
	vfpool_snapshot_free(s);
	return CTL_EXIT_OK;
}
