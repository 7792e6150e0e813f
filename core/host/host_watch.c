/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libudev.h>

#include "core/base/container_of.h"
#include "core/host/host_apply.h"
#include "core/host/host_monitor.h"
#include "core/host/host_select.h"
#include "core/host/host_udev.h"
#include "core/host/host_watch.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/probe/probe_source.h"

#define UNCLASSIFIED_MAX 64u
#define UNCLASSIFIED_AGE 16u /* bursts */

struct host_watch {
	struct host_watch_loop lp; /* zeroed until attached */
	struct udev *udev;
	struct udev_monitor *mon;
	int fd;
	struct loop_op poll_op;
	struct host_change *changes; /* one burst, decoded */
	size_t n_changes, cap_changes;
	/* PCI adds that were neither a PF nor a VF when decoded: VFs announced before their
	 * physfn link, decoded again at each burst and by host_watch_recheck() */
	struct unclassified {
		char pci_addr[VFPOOL_PCI_ADDR_MAX];
		unsigned age; /* bursts it stayed unclassified: a device that is no VF leaves */
	} unclassified[UNCLASSIFIED_MAX];
	size_t n_unclassified;
	struct host_watch_listener *listeners;
	struct pf_selectors *sel; /* what is managed (core/host/pf_selector.h) */
	unsigned unmanaged_pfs;   /* PFs the last discovery left out */
};

int host_watch_discover(struct host_watch *w, const struct pf_selectors *sel,
			struct host **ret_host, unsigned *ret_unmanaged)
{
	struct host *h = NULL;
	unsigned dropped = 0;
	int r = host_discover(w->udev, &h);

	if (r < 0)
		return r;
	r = host_select(h, sel ? sel : w->sel, &dropped);
	if (r < 0) {
		host_free(h);
		return r;
	}
	if (ret_unmanaged)
		*ret_unmanaged = dropped;
	*ret_host = h;
	return 0;
}

int host_watch_open(const struct pf_selectors *sel, struct host_watch **ret_watch,
		    struct host **ret_host)
{
	struct host_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->sel = calloc(1, sizeof(*w->sel));
	if (!w->sel) {
		free(w);
		return -ENOMEM;
	}
	if (sel)
		*w->sel = *sel;
	errno = 0;
	w->udev = udev_new();
	if (!w->udev) {
		r = errno ? -errno : -ENOMEM;
		goto fail;
	}
	r = host_monitor_new(w->udev, &w->mon);
	if (r < 0)
		goto fail;
	w->fd = udev_monitor_get_fd(w->mon);
	r = host_watch_discover(w, NULL, ret_host, &w->unmanaged_pfs);
	if (r < 0)
		goto fail;
	*ret_watch = w;
	return 0;
fail:
	host_watch_free(w);
	return r;
}

void host_watch_free(struct host_watch *w)
{
	if (!w)
		return;
	if (w->mon)
		udev_monitor_unref(w->mon);
	if (w->udev)
		udev_unref(w->udev);
	free(w->changes);
	free(w->sel);
	free(w);
}

unsigned host_watch_unmanaged_pfs(const struct host_watch *w)
{
	return w->unmanaged_pfs;
}

const struct pf_selectors *host_watch_selectors(const struct host_watch *w)
{
	return w->sel;
}

int host_watch_select(struct host_watch *w, const struct pf_selectors *sel)
{
	struct pf_selectors old = *w->sel;
	int r;

	*w->sel = *sel;
	if (!w->lp.engine)
		return 0;
	r = host_watch_resync(w);
	if (r < 0)
		*w->sel = old;
	return r;
}

struct udev *host_watch_udev(const struct host_watch *w)
{
	return w->udev;
}

static void arm_poll(struct host_watch *w)
{
	struct io_uring_sqe *sqe = loop_sqe(w->lp.ring, &w->poll_op);

	io_uring_prep_poll_add(sqe, w->fd, POLLIN);
	io_uring_sqe_set_data(sqe, &w->poll_op);
}

void host_watch_listen(struct host_watch *w, struct host_watch_listener *l)
{
	struct host_watch_listener **p = &w->listeners;

	while (*p) /* at the end: listeners hear of a change in the order they came */
		p = &(*p)->next;
	l->next = NULL;
	*p = l;
}

void host_watch_unlisten(struct host_watch *w, struct host_watch_listener *l)
{
	for (struct host_watch_listener **p = &w->listeners; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			return;
		}
}

/* One flag per model PF, each listener's busy PFs set. malloc'd; NULL when out of memory. */
static bool *busy_flags(struct host_watch *w)
{
	const struct host *model = *w->lp.model;
	bool *busy = calloc(model->n_pfs ? model->n_pfs : 1, sizeof(*busy));

	if (!busy)
		return NULL;
	for (struct host_watch_listener *l = w->listeners; l; l = l->next)
		if (l->busy)
			l->busy(l, model, busy);
	return busy;
}

static int resync(struct host_watch *w, const struct host_gone *gone)
{
	struct host_apply_stats st;
	struct host *fresh = NULL;
	bool *busy;
	int r;

	r = host_watch_discover(w, NULL, &fresh, &w->unmanaged_pfs);
	if (r < 0) {
		log_warn("host_resync_failed", "error=\"%s\"", strerror(-r));
		return r;
	}
	busy = busy_flags(w);
	if (!busy) {
		host_free(fresh);
		return -ENOMEM;
	}
	r = host_apply(w->lp.engine, w->lp.model, fresh, gone, busy, &st);
	free(busy);
	if (r < 0) {
		log_warn("host_resync_failed", "error=\"%s\"", strerror(-r));
		return r;
	}
	if (st.appeared || st.vanished || st.changed || st.pfs_added)
		log_info("host_changed", "pfs_added=%u appeared=%u vanished=%u changed=%u "
			 "leases_lost=%u", st.pfs_added, st.appeared, st.vanished, st.changed,
			 st.leases_lost);
	/* the event probe watches VF netdevs by ifindex in this namespace: new, renamed and
	 * re-created ones join it (one interface listing per udev batch) */
	probe_source_retrack(w->lp.probe);
	for (struct host_watch_listener *l = w->listeners; l;) {
		struct host_watch_listener *next = l->next; /* it may leave */

		if (l->applied)
			l->applied(l, *w->lp.model);
		l = next;
	}
	return 0;
}

int host_watch_resync(struct host_watch *w)
{
	/* the latest burst's removals still hold: their devices may linger in sysfs a moment */
	struct host_gone gone = { .changes = w->changes, .n = w->n_changes };

	return resync(w, &gone);
}

static int push_change(struct host_watch *w, const struct host_change *c)
{
	if (w->n_changes == w->cap_changes) {
		size_t cap = w->cap_changes ? w->cap_changes * 2 : 32;
		void *p = reallocarray(w->changes, cap, sizeof(*w->changes));

		if (!p)
			return -ENOMEM;
		w->changes = p;
		w->cap_changes = cap;
	}
	w->changes[w->n_changes++] = *c;
	return 0;
}

static void log_change(const struct host_change *c)
{
	log_debug("host_event", "kind=%s pci=%s pf=%s driver=%s netdev=%s",
		  host_change_kind_name(c->kind), c->pci_addr, c->pf_addr, c->driver, c->netdev);
}

static void remember_unclassified(struct host_watch *w, const char *pci)
{
	for (size_t i = 0; i < w->n_unclassified; i++)
		if (strcmp(w->unclassified[i].pci_addr, pci) == 0)
			return;
	if (w->n_unclassified == UNCLASSIFIED_MAX) /* the oldest goes */
		memmove(&w->unclassified[0], &w->unclassified[1],
			--w->n_unclassified * sizeof(w->unclassified[0]));
	snprintf(w->unclassified[w->n_unclassified].pci_addr, VFPOOL_PCI_ADDR_MAX, "%s", pci);
	w->unclassified[w->n_unclassified++].age = 0;
}

/* Decodes the unclassified adds again: those that are VFs (or PFs) now join the changes,
 * as their add events would have; aged is whether this is a new burst. Returns how many
 * joined. */
static size_t recheck_unclassified(struct host_watch *w, bool aged)
{
	size_t joined = 0, kept = 0;

	for (size_t i = 0; i < w->n_unclassified; i++) {
		struct unclassified *u = &w->unclassified[i];
		struct host_change c;
		int r = host_change_recheck(w->udev, u->pci_addr, &c);

		if (r == 0) {
			log_debug("host_event_late", "pci=%s kind=%s reason=\"announced before its "
				  "links to its PF\"", u->pci_addr, host_change_kind_name(c.kind));
			log_change(&c);
			if (push_change(w, &c) == 0) {
				joined++;
				continue;
			}
			log_warn("host_event_dropped", "pci=%s reason=\"out of memory\"", c.pci_addr);
		}
		if (r == -ENODEV || (aged && ++u->age > UNCLASSIFIED_AGE))
			continue; /* gone, or no VF after all: forgotten */
		w->unclassified[kept++] = *u;
	}
	w->n_unclassified = kept;
	return joined;
}

/* Reads every queued event; the model still describes the host before them, which is
 * what a removal's classification needs. */
static void drain(struct host_watch *w)
{
	struct udev_device *dev;

	w->n_changes = 0;
	while ((dev = udev_monitor_receive_device(w->mon))) {
		struct host_change c;

		/* a removal the model no longer knows (an earlier burst's discovery already
		 * missed the device) stays HOST_PCI_REMOVED: a numvfs change may still await it */
		if (host_change_from_udev(dev, &c) == 0 &&
		    (host_change_resolve(*w->lp.model, &c) == 0 || c.kind == HOST_PCI_REMOVED)) {
			log_change(&c);
			if (c.kind == HOST_PCI_ADDED) {
				remember_unclassified(w, c.pci_addr);
				udev_device_unref(dev);
				continue;
			}
			if (push_change(w, &c) < 0)
				log_warn("host_event_dropped", "pci=%s reason=\"out of memory\"",
					 c.pci_addr);
		}
		udev_device_unref(dev);
	}
}

/* Applies a discovery with the changes' removals, then tells the listeners of the changes
 * from index first on. */
static void publish(struct host_watch *w, size_t first)
{
	struct host_gone gone = { .changes = w->changes, .n = w->n_changes };

	if (first >= w->n_changes)
		return;
	resync(w, &gone);
	for (size_t i = first; i < w->n_changes; i++) {
		struct host_watch_listener *l = w->listeners;

		while (l) {
			struct host_watch_listener *next = l->next; /* it may leave */

			if (l->changed)
				l->changed(l, &w->changes[i]);
			l = next;
		}
	}
}

static void on_poll(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct host_watch *w = container_of(op, struct host_watch, poll_op);

	if (cqe->res < 0 && cqe->res != -EINTR) {
		if (cqe->res == -ECANCELED)
			return;
		log_warn("host_monitor_failed", "error=\"%s\"", strerror(-cqe->res));
	}
	drain(w);
	recheck_unclassified(w, true);
	publish(w, 0);
	if (!*w->lp.stop)
		arm_poll(w);
}

void host_watch_recheck(struct host_watch *w)
{
	size_t first = w->n_changes; /* the latest burst's removals still hold */

	if (w->n_unclassified && recheck_unclassified(w, false))
		publish(w, first);
}

void host_watch_attach(struct host_watch *w, const struct host_watch_loop *lp)
{
	w->lp = *lp;
	w->poll_op.complete = on_poll;
	arm_poll(w);
}
