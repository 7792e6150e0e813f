/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3), Type=notify): READY=1 once the
 * daemon serves, STATUS= what it serves, RELOADING=1 around a reload, STOPPING=1 when it
 * stops. Each is a no-op outside systemd (no $NOTIFY_SOCKET); a failed send is logged once
 * and changes nothing (the daemon serves whether or not the manager listens).
 */
#ifndef VFPOOL_CORE_NOTIFY_H
#define VFPOOL_CORE_NOTIFY_H

#include <stdint.h>

/* What the daemon serves, for STATUS=. */
struct notify_status {
	uint32_t pfs, vfs, leased, clients;
};

/* READY=1 with the first STATUS=. */
void notify_ready(const struct notify_status *st);
/* STATUS=, only when it changed since the last one sent. */
void notify_status(const struct notify_status *st);
/* RELOADING=1 (with MONOTONIC_USEC=, as systemd 253 wants); notify_ready ends it. */
void notify_reloading(void);
/* STOPPING=1 with why in STATUS=. */
void notify_stopping(const char *why);

#endif
