/* SPDX-License-Identifier: MIT */
/*
 * The real host, kept current: discovery through libudev at start, then a udev monitor
 * polled by the daemon's io_uring. Each burst of events is decoded (host_change_from_udev,
 * host_change_resolve against the model the events are about), then the host is discovered
 * again and applied to the segment (core/host/host_apply.h), then the decoded changes are fed to
 * numvfs changes in progress. Rediscovering rather than patching from each event keeps the
 * segment right even when libudev drops a message.
 */
#ifndef VFPOOL_CORE_HOST_WATCH_H
#define VFPOOL_CORE_HOST_WATCH_H

#include "core/model/host.h"

struct daemon;
struct host_watch;
struct udev;

/* Starts listening (before discovery, so no change between the two is missed) and
 * discovers the host. *ret_host: for daemon_new. */
int host_watch_open(struct host_watch **ret_watch, struct host **ret_host);
/* Hands the watch to the daemon (which frees it), records the host kind in the segment and
 * arms the monitor's poll on the loop. */
void host_watch_attach(struct daemon *d, struct host_watch *w);
void host_watch_free(struct host_watch *w);

struct udev *host_watch_udev(const struct host_watch *w);

/* Discovers the host now and applies it (e.g. before answering a numvfs change); the
 * removals of the latest udev burst still count. */
int host_watch_resync(struct daemon *d);

#endif
