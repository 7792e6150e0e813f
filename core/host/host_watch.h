/* SPDX-License-Identifier: MIT */
/*
 * The real host, kept current: discovery through libudev at start, then a udev monitor
 * polled by the daemon's io_uring. Each burst of events is decoded (host_change_from_udev,
 * host_change_resolve against the model the events are about), then the host is discovered
 * again and applied to the segment (core/host/host_apply.h), then the decoded changes are
 * published to the listeners (a numvfs change in progress waits on them). Rediscovering
 * rather than patching from each event keeps the segment right even when libudev drops a
 * message.
 */
#ifndef VFPOOL_CORE_HOST_WATCH_H
#define VFPOOL_CORE_HOST_WATCH_H

#include <liburing.h>
#include <stdbool.h>

#include "core/host/host_monitor.h"
#include "core/host/pf_selector.h"
#include "core/model/engine.h"
#include "core/model/host.h"

struct host_watch;
struct probe_source;
struct udev;

/* Someone who follows the host's changes, embedded in its own state. Either callback may
 * be NULL. Loop thread only. */
struct host_watch_listener {
	/* Before a discovery is applied: sets busy[p] for each PF p of model (model->n_pfs
	 * flags) whose VFs must stay absent for the allocator (a numvfs change on it). */
	void (*busy)(struct host_watch_listener *l, const struct host *model, bool *busy);
	/* After a burst was applied: each of its decoded changes, in order. */
	void (*changed)(struct host_watch_listener *l, const struct host_change *change);
	/* After every discovery applied (a burst, a resync): the model as it is now. */
	void (*applied)(struct host_watch_listener *l, const struct host *model);
	struct host_watch_listener *next; /* the watch's */
};

/* What the watch works on once the loop runs. */
struct host_watch_loop {
	struct io_uring *ring;
	struct engine *engine;       /* its segment gets each discovery */
	struct host **model;         /* the daemon's model: replaced by each discovery */
	struct probe_source *probe;  /* re-tracks the VF netdevs after each one; NULL: none */
	const bool *stop;            /* the loop's flag: once set, the monitor is not re-armed */
};

/* Starts listening (before discovery, so no change between the two is missed) and
 * discovers the host into *ret_host (the caller's): the PFs and VFs sel manages (NULL or
 * empty: the default selector), every discovery after it likewise. */
int host_watch_open(const struct pf_selectors *sel, struct host_watch **ret_watch,
		    struct host **ret_host);
/* Arms the monitor's poll on the loop's ring; lp's pointers must outlive the watch. */
void host_watch_attach(struct host_watch *w, const struct host_watch_loop *lp);
/* Only after the ring is gone (its poll points into the watch). */
void host_watch_free(struct host_watch *w);

/* Adds or removes a listener (the listener's memory stays the caller's). */
void host_watch_listen(struct host_watch *w, struct host_watch_listener *l);
void host_watch_unlisten(struct host_watch *w, struct host_watch_listener *l);

struct udev *host_watch_udev(const struct host_watch *w);

/* Decodes again the PCI adds that were neither PF nor VF when their events came (a VF is
 * announced before its links to its PF exist) and publishes those that are VFs now, as
 * their events would have been. For a numvfs change once its write returned: the kernel
 * made every VF and link by then. Only once attached. */
void host_watch_recheck(struct host_watch *w);
/* A discovery of what sel (NULL: the watch's selectors) manages, not applied: for a caller
 * that must judge a change first. ret_unmanaged (may be NULL): the PFs it left out. */
int host_watch_discover(struct host_watch *w, const struct pf_selectors *sel,
			struct host **ret_host, unsigned *ret_unmanaged);
/* Replaces the selectors and, once attached, applies them at once (host_watch_resync); on
 * failure the old ones stay. */
int host_watch_select(struct host_watch *w, const struct pf_selectors *sel);
const struct pf_selectors *host_watch_selectors(const struct host_watch *w);
/* PFs with SR-IOV that the last discovery left out (outside the selectors). */
unsigned host_watch_unmanaged_pfs(const struct host_watch *w);

/* Discovers the host now and applies it (e.g. before answering a numvfs change); the
 * removals of the latest udev burst still count. Only once attached. */
int host_watch_resync(struct host_watch *w);

#endif
