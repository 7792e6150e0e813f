/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "core/base/clock.h"
#include "core/log.h"
#include "core/notify.h"

static struct notify_status last;
static bool failed_logged;

static void notify_send(const char *what, const char *msg)
{
	int r = sd_notify(0, msg);

	/* 0: no manager to tell; < 0: it was there and the send failed */
	if (r < 0 && !failed_logged) {
		failed_logged = true;
		log_warn("notify_failed", "message=%s error=\"%s\"", what, strerror(-r));
	}
}

static void status_line(char *buf, size_t len, const struct notify_status *st)
{
	snprintf(buf, len, "STATUS=serving %u PF%s, %u VF%s (%u leased), %u client%s",
		 st->pfs, st->pfs == 1 ? "" : "s", st->vfs, st->vfs == 1 ? "" : "s", st->leased,
		 st->clients, st->clients == 1 ? "" : "s");
}

void notify_ready(const struct notify_status *st)
{
	char msg[160];

	last = *st;
	memcpy(msg, "READY=1\n", 8);
	status_line(msg + 8, sizeof(msg) - 8, st);
	notify_send("READY", msg);
}

void notify_status(const struct notify_status *st)
{
	char msg[160];

	if (memcmp(st, &last, sizeof(last)) == 0)
		return;
	last = *st;
	status_line(msg, sizeof(msg), st);
	notify_send("STATUS", msg);
}

void notify_reloading(void)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(clock_ns(CLOCK_MONOTONIC) / 1000u));
	notify_send("RELOADING", msg);
}

void notify_stopping(const char *why)
{
	char msg[192];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=stopping: %s", why);
	notify_send("STOPPING", msg);
}
