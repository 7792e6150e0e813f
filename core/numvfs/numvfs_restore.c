/* SPDX-License-Identifier: MIT */
/*
 * `vfpoold --restore-numvfs`: a one-shot before networks come up, so it may block. It drives
 * the same state machine as the daemon, with libc writes and a poll on a udev monitor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libudev.h>

#include "core/base/clock.h"
#include "core/host/host_select.h"
#include "core/host/host_udev.h"
#include "core/host/pf_selector_store.h"
#include "core/numvfs/numvfs.h"
#include "core/host/udev_attr.h"

/* A plain write through libc: the kernel's store runs inside it (and umockdev's testbed
 * sees it). The write cannot be interrupted, so its timeout is only the daemon's. */
static long write_numvfs(struct udev *udev, const char *pci, unsigned value)
{
	struct udev_device *dev;
	char path[PATH_MAX], buf[16];
	int fd, len;
	long r;

	errno = 0;
	dev = udev_device_new_from_subsystem_sysname(udev, "pci", pci);
	if (!dev)
		return uattr_errno(errno, ENODEV);
	snprintf(path, sizeof(path), "%s/sriov_numvfs", udev_device_get_syspath(dev));
	udev_device_unref(dev);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u\n", value);
	r = write(fd, buf, (size_t)len);
	if (r < 0)
		r = -errno;
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	return r;
}

static int drive(struct udev *udev, struct udev_monitor *mon, struct numvfs_op *op)
{
	struct numvfs_action a;
	uint32_t armed_step = UINT32_MAX;
	uint64_t deadline = 0;

	for (;;) {
		numvfs_op_next_action(op, &a);
		if (a.kind == NUMVFS_ACT_FINISHED)
			return 0;
		if (a.step != armed_step) {
			armed_step = a.step;
			deadline = clock_ns(CLOCK_MONOTONIC) / NSEC_PER_MSEC + a.timeout_ms;
		}
		if (a.kind == NUMVFS_ACT_WRITE) {
			numvfs_op_write_done(op, a.step, write_numvfs(udev, numvfs_op_pf(op), a.value));
		} else {
			struct pollfd p = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
			uint64_t now = clock_ns(CLOCK_MONOTONIC) / NSEC_PER_MSEC;
			int n = poll(&p, 1, now >= deadline ? 0 : (int)(deadline - now));
			struct udev_device *dev;
			struct host_change c;

			if (n < 0 && errno != EINTR)
				return -errno;
			if (n == 0) {
				numvfs_op_timeout(op, a.step);
				continue;
			}
			if (n < 0)
				continue;
			dev = udev_monitor_receive_device(mon);
			if (!dev)
				continue; /* a message libudev dropped (e.g. filtered): keep waiting */
			if (host_change_from_udev(dev, &c) == 0)
				numvfs_op_observe(op, &c);
			udev_device_unref(dev);
		}
	}
}

static int pf_index(const struct host *h, const char *pci, uint32_t *ret)
{
	for (size_t i = 0; i < h->n_pfs; i++)
		if (strcmp(h->pfs[i].pci_addr, pci) == 0) {
			*ret = (uint32_t)i;
			return 0;
		}
	return -ENODEV;
}

static int restore_one(struct udev *udev, struct udev_monitor *mon,
		       const struct pf_selectors *sel, const struct numvfs_entry *e,
		       uint32_t timeout_ms, FILE *report)
{
	struct pf_sel_device d;
	struct numvfs_op *op = NULL;
	struct host *h = NULL;
	const char *msg;
	uint32_t pf, existing = 0;
	int r;

	/* a fresh model per PF: restoring one PF adds devices the next must not miss */
	r = host_discover(udev, &h);
	if (r < 0) {
		fprintf(report, "%s: sriov_numvfs=%u not restored: discovery failed: %s\n",
			e->pci_addr, e->n, strerror(-r));
		return r;
	}
	r = pf_index(h, e->pci_addr, &pf);
	if (r < 0) {
		fprintf(report, "%s: sriov_numvfs=%u not restored: no such SR-IOV PF\n",
			e->pci_addr, e->n);
		goto out;
	}
	/* a PF outside the selectors is someone else's: never written to, not a failure */
	d = host_select_device(&h->pfs[pf]);
	if (!pf_selectors_manage_pf(sel, &d)) {
		fprintf(report, "%s: sriov_numvfs=%u skipped: outside the PF selectors\n",
			e->pci_addr, e->n);
		goto out;
	}
	for (size_t i = 0; i < h->n_vfs; i++)
		existing += h->vfs[i].pf == pf;
	if (h->pfs[pf].num_vfs == e->n && existing == e->n) {
		fprintf(report, "%s: sriov_numvfs=%u already in place\n", e->pci_addr, e->n);
		goto out;
	}
	if (e->n > h->pfs[pf].total_vfs) {
		r = -ERANGE;
		fprintf(report, "%s: sriov_numvfs=%u not restored: the PF supports 0..%u\n",
			e->pci_addr, e->n, h->pfs[pf].total_vfs);
		goto out;
	}
	r = numvfs_op_new(h, pf, e->n, timeout_ms, &op);
	if (r < 0) {
		fprintf(report, "%s: sriov_numvfs=%u not restored: %s\n", e->pci_addr, e->n,
			strerror(-r));
		goto out;
	}
	r = drive(udev, mon, op);
	if (r < 0) {
		fprintf(report, "%s: sriov_numvfs=%u not restored: waiting for udev: %s\n",
			e->pci_addr, e->n, strerror(-r));
		goto out;
	}
	r = numvfs_op_result(op, &msg);
	fprintf(report, "%s%s\n", msg, r == 0 ? " restored" : "");
out:
	numvfs_op_free(op);
	host_free(h);
	return r;
}

/* Whether the persisted PF can be restored now: discovered, and with a driver (the kernel
 * refuses sriov_numvfs without the driver's sriov_configure). */
static bool pf_ready(const struct host *h, const char *pci)
{
	uint32_t pf;

	return pf_index(h, pci, &pf) == 0 && h->pfs[pf].driver[0] != '\0';
}

static uint64_t now_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / NSEC_PER_MSEC;
}

/* Waits on the monitor until an event arrives (then reads every queued one: the caller
 * discovers the host again) or the deadline passes. 0: something happened; -ETIMEDOUT. */
static int wait_for_events(struct udev_monitor *mon, uint64_t deadline)
{
	struct pollfd p = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
	struct udev_device *dev;

	for (;;) {
		uint64_t now = now_ms();
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		while ((dev = udev_monitor_receive_device(mon)))
			udev_device_unref(dev);
		return 0;
	}
}

int numvfs_restore_all(struct udev *udev, const char *state_dir,
		       const struct numvfs_restore_opts *opts, char **ret_report)
{
	struct numvfs_entry *entries = NULL;
	struct numvfs_bad_entry *bad = NULL;
	struct udev_monitor *mon = NULL;
	struct pf_selectors *sel = NULL;
	char why[512] = "", *text = NULL;
	size_t n = 0, n_bad = 0, text_len = 0, pending;
	uint32_t timeout_ms = opts ? opts->timeout_ms : 0;
	uint32_t wait_ms = opts ? opts->wait_ms : 0;
	FILE *progress = opts ? opts->progress : NULL;
	uint64_t deadline;
	bool *done = NULL, announced = false;
	FILE *report;
	int r, first = 0;

	if (!udev || !state_dir)
		return -EINVAL;
	report = open_memstream(&text, &text_len);
	if (!report)
		return -ENOMEM;
	r = numvfs_store_list(state_dir, &entries, &n, &bad, &n_bad, why, sizeof(why));
	if (r < 0) {
		fprintf(report, "%s\n", why[0] ? why : strerror(-r));
		first = r;
		goto out;
	}
	/* a file that cannot be trusted is its own PF's failure: the others are restored */
	for (size_t i = 0; i < n_bad; i++) {
		fprintf(report, "%s\n", bad[i].why);
		if (first == 0)
			first = bad[i].err;
	}
	if (n == 0)
		goto out;
	/* without knowing what is managed nothing is written: a guess could be another's PF */
	sel = malloc(sizeof(*sel));
	r = sel ? pf_selector_store_load(state_dir, sel, why, sizeof(why)) : -ENOMEM;
	if (r < 0) {
		fprintf(report, "nothing restored: PF selectors: %s\n",
			sel ? why : strerror(-r));
		first = r;
		goto out;
	}
	done = calloc(n, sizeof(*done));
	if (!done) {
		first = -ENOMEM;
		goto out;
	}
	/* listening before the first discovery and the first write, so no event of a PF
	 * that comes late, nor of a VF, can be missed */
	r = host_monitor_new(udev, &mon);
	if (r < 0) {
		fprintf(report, "udev monitor: %s\n", strerror(-r));
		first = r;
		goto out;
	}
	deadline = now_ms() + wait_ms;
	pending = n;
	/* Each PF as soon as it is there (a late driver, a hot-plugged card): discover, restore
	 * the ready ones, wait on udev for the rest until the deadline. Restoring one PF reads
	 * events the others' arrival may be among: the next discovery sees them anyway. */
	for (;;) {
		struct host *h = NULL;

		r = host_discover(udev, &h);
		if (r < 0) {
			fprintf(report, "host discovery failed: %s\n", strerror(-r));
			if (first == 0)
				first = r;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (done[i] || !pf_ready(h, entries[i].pci_addr))
				continue;
			done[i] = true;
			pending--;
			r = restore_one(udev, mon, sel, &entries[i], timeout_ms, report);
			if (r < 0 && first == 0)
				first = r;
		}
		host_free(h);
		if (!pending)
			break;
		if (progress && !announced) {
			fprintf(progress, "waiting up to %u ms for %zu persisted PF(s) to appear:",
				wait_ms, pending);
			for (size_t i = 0; i < n; i++)
				if (!done[i])
					fprintf(progress, " %s", entries[i].pci_addr);
			fputc('\n', progress);
			fflush(progress);
			announced = true;
		}
		r = wait_for_events(mon, deadline);
		if (r == -ETIMEDOUT)
			break;
		if (r < 0) {
			fprintf(report, "udev monitor: %s\n", strerror(-r));
			if (first == 0)
				first = r;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		fprintf(report, "%s: sriov_numvfs=%u not restored: no such SR-IOV PF with a driver "
			"within %u ms\n", entries[i].pci_addr, entries[i].n, wait_ms);
		if (first == 0)
			first = -ENODEV;
	}
out:
	if (mon)
		udev_monitor_unref(mon);
	free(done);
	free(sel);
	free(entries);
	free(bad);
	fclose(report);
	if (ret_report)
		*ret_report = text;
	else
		free(text);
	return first;
}
