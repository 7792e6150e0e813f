/* SPDX-License-Identifier: MIT */
/* vfpoolctl watch: the snapshot, again every interval until Ctrl-C. Each frame is one
 * snapshot refresh (a copy of the state segment; the daemon is never asked anything).
 * On a terminal a frame replaces the last one and fits the window: the PF table first,
 * then as many VF rows as fit and a "... N more" line, every line cut to the width.
 * Anywhere else (a pipe, a file) frames follow each other whole, with no escape codes;
 * with --json each frame is one JSON document on its own line. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"
#include "client/vfpoolctl/snapshot_view.h"

#define WATCH_DEFAULT_MS 1000u
#define WATCH_MIN_MS     10u

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

/* Lines a table takes when printed whole (its header and rows). */
static unsigned table_lines(const struct table *t)
{
	return t->rows + 1;
}

static void frame_text(FILE *f, const struct ctl *c, const struct vfpool_snapshot *s,
		       unsigned interval, bool all, bool tty)
{
	struct winsize ws = { 0 };
	unsigned rows = 0, cols = 0, used;
	struct table pfs, vfs;
	char buf[256];

	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	} else if (tty) {
		rows = 24;
		cols = 80;
	}
	snapshot_pf_table(&pfs, s);
	snapshot_vf_table(&vfs, s, all);
	/* home, clear: the frame replaces the last one instead of scrolling */
	if (tty)
		fputs("\033[H\033[2J", f);
	snprintf(buf, sizeof(buf), "vfpoolctl watch: %s, every %u ms (Ctrl-C quits)",
		 c->run_dir, interval);
	fprintf(f, "%.*s\n", cols ? (int)cols : (int)sizeof(buf), buf);
	snapshot_print_head(f, s);
	fputc('\n', f);
	table_print(f, &pfs, 0, cols);
	fputc('\n', f);
	/* the title, the head's three lines, two blank lines, the PF table; the last line
	 * stays empty so the cursor does not scroll the frame */
	used = 1 + 3 + 2 + table_lines(&pfs) + 1;
	if (!rows)
		table_print(f, &vfs, 0, 0);
	else if (rows > used)
		table_print(f, &vfs, rows - used < table_lines(&vfs) ? rows - used : 0, cols);
	if (!tty && !all)
		fprintf(f, "(free VFs not listed; --all lists them)\n");
	if (!tty)
		fputc('\n', f);
	table_free(&pfs);
	table_free(&vfs);
}

int cmd_watch(struct ctl *c)
{
	struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: wake the sleep */
	const char *iv = ctl_opt(c, "interval"), *cnt = ctl_opt(c, "count");
	unsigned interval = WATCH_DEFAULT_MS, count = 0, frames = 0;
	bool tty = isatty(STDOUT_FILENO), all = ctl_opt(c, "all") != NULL;
	struct vfpool_snapshot *s;
	int r;

	/* the table checked the digits and the maximum */
	if (iv && (interval = (unsigned)atoi(iv)) < WATCH_MIN_MS)
		return ctl_usage(c, "--interval %s: below %u ms", iv, WATCH_MIN_MS);
	if (cnt && (count = (unsigned)atoi(cnt)) == 0)
		return ctl_usage(c, "--count 0: at least one frame");
	r = ctl_snapshot(c, &s);
	if (r)
		return r;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		if (c->json)
			r = ctl_json_print(stdout, snapshot_json(s));
		else
			frame_text(stdout, c, s, interval, all, tty);
		if (r || fflush(stdout)) {
			vfpool_snapshot_free(s);
			return CTL_EXIT_FAIL; /* the reader went away */
		}
		if ((count && ++frames >= count) || interrupted)
			break;
		sleep_ms(interval);
		if (interrupted)
			break;
		r = vfpool_snapshot_refresh(s);
		if (r) {
			vfpool_snapshot_free(s);
			return ctl_fail(c, r, "%s/state: %s", c->run_dir, vfpool_strerror(r));
		}
		/* the daemon died while watched: its last frame stays, this says why */
		r = ctl_not_running(c, s);
		if (r) {
			vfpool_snapshot_free(s);
			return r;
		}
	}
	vfpool_snapshot_free(s);
	return CTL_EXIT_OK;
}
