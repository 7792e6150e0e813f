/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "core/base/container_of.h"
#include "core/base/parse_uint.h"
#include "core/host/host_watch.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/numvfs/numvfs.h"
#include "core/numvfs/numvfs_cmd.h"
#include "shm/state.h"

struct numvfs_run;

struct numvfs_cmd {
	struct numvfs_cmd_opts opts;
	struct host_watch_listener listener;
	struct numvfs_run *runs; /* changes in progress, and finished ones not yet freed */
};

/* A timer for one step of the op. Each step gets its own: a timer that fired just as the
 * step changed arrives with its own (now stale) step, which the op ignores. */
struct step_timer {
	struct step_timer *next; /* the run's timers still in flight */
	struct loop_op op, cancel_op;
	struct numvfs_run *run;
	struct __kernel_timespec ts;
	uint32_t step;
	unsigned in_flight; /* the timer and its cancellation */
};

struct numvfs_run {
	struct numvfs_run *next;
	struct numvfs_cmd *n;
	struct numvfs_op *op;
	struct ctl_request *req; /* answered once, when the op finishes */
	char pci[VFPOOL_PCI_ADDR_MAX];
	char name[VFPOOL_IFNAME_MAX + VFPOOL_PCI_ADDR_MAX]; /* netdev, or the address */
	char path[PATH_MAX];     /* sriov_numvfs */
	bool finished;           /* answered; freed once nothing is in flight */
	/* the write in flight: fd and buffer live until its completion */
	struct loop_op write_op;
	int fd;
	char buf[16];
	uint32_t write_step;
	bool write_pending;
	uint32_t timer_step; /* the step the current timer is for */
	/* the current step's timer; earlier steps' timers are being cancelled */
	struct step_timer *timer;
	struct step_timer *timers; /* every timer not yet freed */
	unsigned timers_pending; /* timers and their cancellations in flight */
};

static void drive(struct numvfs_run *run);
static void reconcile(struct numvfs_cmd *n);
static void cancel_timer(struct numvfs_run *run);

static struct numvfs_run *find_run(const struct numvfs_cmd *n, const char *pci)
{
	for (struct numvfs_run *r = n->runs; r; r = r->next)
		if (!r->finished && strcmp(r->pci, pci) == 0)
			return r;
	return NULL;
}

static void unlink_run(struct numvfs_cmd *n, struct numvfs_run *run)
{
	for (struct numvfs_run **p = &n->runs; *p; p = &(*p)->next)
		if (*p == run) {
			*p = run->next;
			return;
		}
}

static void free_run(struct numvfs_run *run)
{
	if (run->fd >= 0)
		close(run->fd);
	while (run->timers) {
		struct step_timer *t = run->timers;

		run->timers = t->next;
		free(t);
	}
	numvfs_op_free(run->op);
	free(run);
}

static void free_if_idle(struct numvfs_run *run)
{
	if (!run->finished || run->write_pending || run->timers_pending)
		return;
	unlink_run(run->n, run);
	free_run(run);
}

/* The change on pci is over (its outcome persisted, or nothing to reconcile). */
static void clear_intent(struct numvfs_cmd *nc, const char *pci)
{
	int r = numvfs_intent_clear(nc->opts.state_dir, pci);

	if (r < 0)
		log_err("numvfs_journal_failed", "pci=%s error=\"clearing %s/%s/%s: %s\"", pci,
			nc->opts.state_dir, NUMVFS_INTENT_DIR, pci, strerror(-r));
}

static void finish(struct numvfs_run *run)
{
	const char *state_dir = run->n->opts.state_dir;
	const char *msg = "";
	int r = numvfs_op_result(run->op, &msg);
	unsigned n = numvfs_op_target(run->op);

	run->finished = true;
	/* the segment shows the outcome before the asker hears of it */
	host_watch_resync(run->n->opts.watch);
	if (r == 0) {
		int s = numvfs_store_save(state_dir, run->pci, n);

		if (s < 0) {
			log_err("numvfs_persist_failed", "pf=%s pci=%s numvfs=%u state_dir=%s error=\"%s\"",
				run->name, run->pci, n, state_dir, strerror(-s));
			if (run->req)
				ctl_reply(run->req, s, "%s: %u VFs, but saving it under %s/%s "
					  "failed: %s", run->name, n, state_dir, NUMVFS_DIR,
					  strerror(-s));
		} else {
			log_info("numvfs_changed", "pf=%s pci=%s numvfs=%u", run->name, run->pci, n);
			if (run->req)
				ctl_reply(run->req, 0, "%s: %u VFs", run->name, n);
		}
		/* persisted or not, the change is over; a store left behind is the next
		 * start's to see (the kernel has the count, the journal says it was asked) */
		if (s == 0)
			clear_intent(run->n, run->pci);
	} else {
		log_warn("numvfs_change_failed", "pf=%s pci=%s numvfs=%u error=\"%s\"", run->name,
			 run->pci, n, msg);
		if (run->req)
			ctl_reply(run->req, r, "%s", msg);
		/* rolled back to where it started: nothing to reconcile; otherwise (or when this
		 * was itself the rollback of an interrupted change) the next start rolls back */
		if (run->req && numvfs_op_restored(run->op))
			clear_intent(run->n, run->pci);
	}
	run->req = NULL;
	cancel_timer(run);
	free_if_idle(run);
}

static void on_write(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct numvfs_run *run = container_of(op, struct numvfs_run, write_op);
	struct host_watch *watch = run->n->opts.watch;

	run->write_pending = false;
	/* closing is what the kernel (and a testbed's fake kernel) acts on last */
	if (close(run->fd) < 0 && cqe->res >= 0)
		numvfs_op_write_done(run->op, run->write_step, -errno);
	else
		numvfs_op_write_done(run->op, run->write_step, cqe->res);
	run->fd = -1;
	if (run->finished)
		free_if_idle(run);
	else
		drive(run);
	/* The kernel has made every VF and its links by now. A VF whose add event was decoded
	 * before its physfn link existed counts now (run may be gone: not used below) */
	host_watch_recheck(watch);
}

static void timer_done(struct step_timer *t)
{
	struct numvfs_run *run = t->run;

	run->timers_pending--;
	if (--t->in_flight)
		return;
	for (struct step_timer **p = &run->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	free(t);
}

static void on_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct step_timer *t = container_of(op, struct step_timer, op);
	struct numvfs_run *run = t->run;
	uint32_t step = t->step;

	if (run->timer == t)
		run->timer = NULL;
	timer_done(t);
	if (run->finished) {
		free_if_idle(run);
		return;
	}
	/* -ESTALE from the op for a step that has already moved on */
	if (cqe->res == -ETIME && numvfs_op_timeout(run->op, step) == 0)
		drive(run);
}

static void on_timer_cancel(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct step_timer *t = container_of(op, struct step_timer, cancel_op);
	struct numvfs_run *run = t->run;

	(void)cqe; /* the timer's own completion says what became of it */
	timer_done(t);
	free_if_idle(run);
}

static void cancel_timer(struct numvfs_run *run)
{
	struct step_timer *t = run->timer;
	struct io_uring_sqe *sqe;

	if (!t)
		return;
	run->timer = NULL;
	sqe = loop_sqe(run->n->opts.ring, &t->cancel_op);
	io_uring_prep_timeout_remove(sqe, (__u64)(uintptr_t)&t->op, 0);
	io_uring_sqe_set_data(sqe, &t->cancel_op);
	t->in_flight++;
	run->timers_pending++;
}

static void arm_step_timer(struct numvfs_run *run, uint32_t step, uint32_t ms)
{
	struct step_timer *t;

	cancel_timer(run);
	t = calloc(1, sizeof(*t));
	if (!t) {
		/* without a timer the step is still bounded by the events; say so once */
		log_warn("numvfs_timer_failed", "pci=%s reason=\"out of memory\"", run->pci);
		return;
	}
	t->run = run;
	t->step = step;
	t->op.complete = on_timer;
	t->cancel_op.complete = on_timer_cancel;
	t->in_flight = 1;
	t->next = run->timers;
	run->timers = t;
	run->timers_pending++;
	run->timer = t;
	loop_timer(run->n->opts.ring, &t->op, &t->ts, ms);
}

/* Starts a write, or feeds its failure to open at once; true when the op moved on. */
static bool start_write(struct numvfs_run *run, uint32_t step, unsigned value)
{
	struct io_uring_sqe *sqe;
	int len;

	/* libc open(): umockdev redirects /sys for libc calls only, and the fd is real */
	run->fd = open(run->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (run->fd < 0) {
		numvfs_op_write_done(run->op, step, -errno);
		return true;
	}
	len = snprintf(run->buf, sizeof(run->buf), "%u\n", value);
	sqe = loop_sqe(run->n->opts.ring, &run->write_op);
	io_uring_prep_write(sqe, run->fd, run->buf, (unsigned)len, 0);
	io_uring_sqe_set_data(sqe, &run->write_op);
	run->write_step = step;
	run->write_pending = true;
	return false;
}

static void drive(struct numvfs_run *run)
{
	struct numvfs_action a;

	for (;;) {
		numvfs_op_next_action(run->op, &a);
		if (a.kind == NUMVFS_ACT_FINISHED) {
			finish(run);
			return;
		}
		if (a.step != run->timer_step) {
			run->timer_step = a.step;
			arm_step_timer(run, a.step, a.timeout_ms);
		}
		if (a.kind == NUMVFS_ACT_WAIT)
			return;
		/* a write whose step timed out may still be in flight: its completion (stale,
		 * ignored by the op) frees the fd, then this write starts */
		if (run->write_pending)
			return;
		if (!start_write(run, a.step, a.value))
			return;
	}
}

/* The watch's listener: a decoded udev change feeds every change in progress. */
static void on_host_change(struct host_watch_listener *l, const struct host_change *change)
{
	struct numvfs_cmd *n = container_of(l, struct numvfs_cmd, listener);
	struct numvfs_run *run = n->runs;

	while (run) {
		struct numvfs_run *next = run->next; /* drive may free run */

		if (!run->finished && numvfs_op_observe(run->op, change) == 0)
			drive(run);
		run = next;
	}
}

/* The watch's listener: a PF with a change in progress keeps its VFs away from the
 * allocator. */
static void busy_pfs(struct host_watch_listener *l, const struct host *model, bool *busy)
{
	struct numvfs_cmd *n = container_of(l, struct numvfs_cmd, listener);

	for (size_t p = 0; p < model->n_pfs; p++)
		if (find_run(n, model->pfs[p].pci_addr))
			busy[p] = true;
}

int numvfs_cmd_new(const struct numvfs_cmd_opts *opts, struct numvfs_cmd **ret_cmd)
{
	struct numvfs_cmd *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->opts = *opts;
	n->listener.busy = busy_pfs;
	n->listener.changed = on_host_change;
	if (n->opts.watch) {
		host_watch_listen(n->opts.watch, &n->listener);
		reconcile(n);
	}
	*ret_cmd = n;
	return 0;
}

void numvfs_cmd_free(struct numvfs_cmd *n)
{
	if (!n)
		return;
	if (n->opts.watch)
		host_watch_unlisten(n->opts.watch, &n->listener);
	while (n->runs) {
		struct numvfs_run *run = n->runs;

		n->runs = run->next;
		if (run->req)
			ctl_request_drop(run->req);
		free_run(run);
	}
	free(n);
}

/* ---- the command ------------------------------------------------------------------------ */

static int find_pf(const struct host *h, const char *name, uint32_t *ret)
{
	for (size_t i = 0; i < h->n_pfs; i++)
		if (strcmp(h->pfs[i].pci_addr, name) == 0 ||
		    (h->pfs[i].netdev[0] && strcmp(h->pfs[i].netdev, name) == 0)) {
			*ret = (uint32_t)i;
			return 0;
		}
	return -ENODEV;
}

static int sriov_numvfs_path(struct host_watch *watch, const char *pci, char *buf, size_t len)
{
	struct udev_device *dev;
	int n;

	errno = 0;
	dev = udev_device_new_from_subsystem_sysname(host_watch_udev(watch), "pci", pci);
	if (!dev)
		return errno ? -errno : -ENODEV;
	n = snprintf(buf, len, "%s/sriov_numvfs", udev_device_get_syspath(dev));
	udev_device_unref(dev);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The host-use words' names, as vfpoolctl shows them (bit order of VFPOOL_HOST_USE_*). */
static const char *const host_use_names[VFPOOL_HOST_USE_NR] = {
	"macvtap", "vlan", "bridge_port", "bond_member", "address", "default_route", "up",
};

/* Why a present, unleased VF is host-busy: the record's reason when it is the host-busy
 * one (no other reason owns the record's text), else the uses by name. */
static void host_busy_text(const struct vfpool_shm_vf *rec, uint32_t uses, bool other,
			   char *buf, size_t len)
{
	size_t w = 0;

	if (!other && rec->reason[0]) {
		snprintf(buf, len, "%.*s", (int)sizeof(rec->reason), rec->reason);
		return;
	}
	buf[0] = '\0';
	for (unsigned b = 0; b < VFPOOL_HOST_USE_NR && w < len; b++)
		if (uses & (1u << b)) {
			int k = snprintf(buf + w, len - w, "%s%s", w ? ", " : "", host_use_names[b]);

			if (k < 0)
				break;
			w += (size_t)k;
		}
}

/* Why each model VF is not free (numvfs_check_request), from the pool's bits and the
 * segment's records: leased, host-busy, bound by another party, dirty. malloc'd. */
static struct numvfs_vf_use *vf_uses(const struct engine *e, const struct host *model)
{
	struct numvfs_vf_use *uses = calloc(model->n_vfs ? model->n_vfs : 1, sizeof(*uses));

	if (!uses)
		return NULL;
	for (size_t i = 0; i < model->n_vfs; i++) {
		const struct host_vf *vf = &model->vfs[i];
		const struct pool_pf *pp;
		const struct vfpool_shm_vf *rec;
		uint32_t slot, s = vf->vf_index;
		bool bound, dirty, busy, iommu;
		char text[VFPOOL_REASON_MAX + 64];
		char *w = uses[i].why;
		size_t len = sizeof(uses[i].why);

		if (vf->pf >= e->pool.n_pfs)
			continue;
		pp = &e->pool.pfs[vf->pf];
		slot = state_pfs(e->hdr)[vf->pf].vf_first + s;
		rec = &state_vfs(e->hdr)[slot];
		if (pool_is_leased(pp, s)) {
			snprintf(w, len, "leased by %.*s/%.*s", (int)sizeof(rec->vm_id), rec->vm_id,
				 (int)sizeof(rec->vnic_id), rec->vnic_id);
			continue;
		}
		busy = pool_is_blocked(pp, s, VFPOOL_BLOCK_HOST_BUSY);
		bound = pool_is_blocked(pp, s, VFPOOL_BLOCK_BOUND_OTHER);
		dirty = pool_is_blocked(pp, s, VFPOOL_BLOCK_DIRTY);
		iommu = pool_is_blocked(pp, s, VFPOOL_BLOCK_IOMMU_SHARED);
		if (bound)
			snprintf(w, len, "bound to %s by another party",
				 vf->driver[0] ? vf->driver : "a driver");
		if (busy) {
			host_busy_text(rec, state_host_use(e->hdr)[slot],
				       bound || dirty || iommu, text, sizeof(text));
			snprintf(w + strlen(w), len - strlen(w), "%shost-busy (%s)", w[0] ? ", " : "",
				 text);
		}
		if (dirty)
			snprintf(w + strlen(w), len - strlen(w), "%sdirty (%s)", w[0] ? ", " : "",
				 bound || busy || iommu || !rec->reason[0] ? "a reset failed" :
				 rec->reason);
	}
	return uses;
}

/* The PF's sriov_numvfs as the kernel has it now (the model may lag its udev events);
 * the model's value when it cannot be read. */
static unsigned current_numvfs(struct numvfs_cmd *nc, const struct host_pf *pf)
{
	char path[PATH_MAX], buf[16] = "";
	unsigned v;
	ssize_t len;
	int fd;

	if (sriov_numvfs_path(nc->opts.watch, pf->pci_addr, path, sizeof(path)) < 0)
		return pf->num_vfs;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pf->num_vfs;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return pf->num_vfs;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return parse_uint(buf, NUMVFS_MAX, &v) == 0 ? v : pf->num_vfs;
}

/* Setting the current value changes nothing in the kernel, whatever uses the VFs: answered
 * at once, with nothing written to sriov_numvfs. The value is persisted when the store
 * does not hold it yet (pf set manages the PF from now on). True when answered. */
static bool already(struct numvfs_cmd *nc, struct ctl_request *req, const struct host_pf *pf,
		    unsigned current, unsigned n)
{
	const char *name = pf->netdev[0] ? pf->netdev : pf->pci_addr;
	const char *state_dir = nc->opts.state_dir;
	char why[256] = "";
	unsigned stored;
	int r;

	if (current != n)
		return false;
	r = numvfs_store_load(state_dir, pf->pci_addr, &stored, why, sizeof(why));
	if (r < 0 || stored != n) {
		r = numvfs_store_save(state_dir, pf->pci_addr, n);
		if (r < 0) {
			log_err("numvfs_persist_failed",
				"pf=%s pci=%s numvfs=%u state_dir=%s error=\"%s\"", name,
				pf->pci_addr, n, state_dir, strerror(-r));
			ctl_reply(req, r, "%s: already %u VFs, but saving it under %s/%s failed: %s",
				  name, n, state_dir, NUMVFS_DIR, strerror(-r));
			return true;
		}
	}
	log_info("numvfs_unchanged", "pf=%s pci=%s numvfs=%u uid=%u", name, pf->pci_addr, n,
		 (unsigned)req->cred.uid);
	ctl_reply(req, 0, "%s: already %u VFs", name, n);
	return true;
}

/* A change of model PF p to n, not started yet (the caller journals and starts it). */
static struct numvfs_run *new_run(struct numvfs_cmd *nc, uint32_t p, unsigned n)
{
	const struct host *model = *nc->opts.model;
	const struct host_pf *pf = &model->pfs[p];
	struct numvfs_run *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	run->n = nc;
	run->fd = -1;
	run->write_op.complete = on_write;
	run->timer_step = UINT32_MAX;
	memcpy(run->pci, pf->pci_addr, sizeof(run->pci));
	snprintf(run->name, sizeof(run->name), "%s", pf->netdev[0] ? pf->netdev : pf->pci_addr);
	if (sriov_numvfs_path(nc->opts.watch, run->pci, run->path, sizeof(run->path)) < 0 ||
	    numvfs_op_new(model, p, n, nc->opts.timeout_ms, &run->op) < 0) {
		free_run(run);
		return NULL;
	}
	return run;
}

static void start_run(struct numvfs_run *run)
{
	struct numvfs_cmd *nc = run->n;

	run->next = nc->runs;
	nc->runs = run;
	/* its VFs are about to go: the allocator stops handing them out now */
	host_watch_resync(nc->opts.watch);
	drive(run);
}

static void cmd_pf_set(struct ctl_request *req)
{
	struct numvfs_cmd *nc = req->ctx;
	const struct host *model = *nc->opts.model;
	struct numvfs_run *run;
	const struct host_pf *pf;
	uint32_t p;
	unsigned n;
	struct numvfs_vf_use *uses;
	unsigned current;
	char why[4096];
	int r;

	if (req->argc != 3 || strcmp(req->argv[1], "--numvfs") != 0) {
		ctl_reply_usage(req, "pf set PF --numvfs N");
		return;
	}
	if (!nc->opts.watch) {
		ctl_reply(req, -EOPNOTSUPP, "%.32s: numvfs changes need a discovered host, not --simulate",
			  req->argv[0]);
		return;
	}
	if (find_pf(model, req->argv[0], &p) < 0) {
		ctl_reply(req, -ENODEV, "%.32s: no such SR-IOV PF on this host", req->argv[0]);
		return;
	}
	pf = &model->pfs[p];
	if (parse_uint(req->argv[2], NUMVFS_MAX, &n) < 0) {
		ctl_reply(req, -EINVAL, "%s: --numvfs %.32s: not a number in 0..%u",
			  pf->netdev[0] ? pf->netdev : pf->pci_addr, req->argv[2], pf->total_vfs);
		return;
	}
	if (find_run(nc, pf->pci_addr)) {
		ctl_reply(req, -EBUSY, "%s: numvfs change already in progress",
			  pf->netdev[0] ? pf->netdev : pf->pci_addr);
		return;
	}
	current = current_numvfs(nc, pf);
	if (already(nc, req, pf, current, n))
		return;
	uses = vf_uses(nc->opts.engine, model);
	if (!uses) {
		ctl_reply(req, -ENOMEM, "out of memory");
		return;
	}
	r = numvfs_check_request(model, p, n, uses, why, sizeof(why));
	free(uses);
	if (r < 0) {
		ctl_reply(req, r, "%s", why);
		return;
	}
	run = new_run(nc, p, n);
	if (!run) {
		ctl_reply(req, -ENOMEM, "%s: cannot start the change: out of memory",
			  pf->netdev[0] ? pf->netdev : pf->pci_addr);
		return;
	}
	/* journaled before the first write: a daemon killed in the middle leaves it for the
	 * next start to finish or roll back (reconcile below) */
	r = numvfs_intent_save(nc->opts.state_dir, run->pci, current, n);
	if (r < 0) {
		log_err("numvfs_journal_failed", "pf=%s pci=%s error=\"saving %s/%s/%s: %s\"",
			run->name, run->pci, nc->opts.state_dir, NUMVFS_INTENT_DIR, run->pci,
			strerror(-r));
		ctl_reply(req, r, "%s: numvfs not changed: journaling the change under %s/%s "
			  "failed: %s", run->name, nc->opts.state_dir, NUMVFS_INTENT_DIR,
			  strerror(-r));
		free_run(run);
		return;
	}
	run->req = req;
	log_info("numvfs_change_started", "pf=%s pci=%s from=%u to=%u uid=%u", run->name,
		 run->pci, current, n, (unsigned)req->cred.uid);
	start_run(run);
}

/* ---- a change a killed daemon left in flight --------------------------------------------- */

static void reconciled(const struct numvfs_intent *in, const char *action, const char *reason)
{
	log_info("numvfs_change_reconciled", "pci=%s from=%u to=%u action=%s reason=\"%s\"",
		 in->pci_addr, in->from, in->to, action, reason);
}

/* One journaled change: finished when the kernel has the count asked (only the persisting
 * was lost), nothing to do when it has the count the change started from, else rolled back
 * to that count by a change of our own (the journal entry stays until it is done, so a
 * second kill rolls back again). */
static void reconcile_one(struct numvfs_cmd *nc, const struct numvfs_intent *in,
			  const char *boot_id)
{
	const struct host *model = *nc->opts.model;
	struct numvfs_run *run;
	unsigned existing = 0, kernel;
	uint32_t p;
	int r;

	if (in->boot_id[0] && boot_id[0] && strcmp(in->boot_id, boot_id) != 0) {
		reconciled(in, "dropped", "left by an earlier boot: the boot restore applied the "
			   "persisted count since");
		clear_intent(nc, in->pci_addr);
		return;
	}
	if (find_pf(model, in->pci_addr, &p) < 0) {
		reconciled(in, "dropped", "the PF is gone: the boot restore applies the persisted "
			   "count");
		clear_intent(nc, in->pci_addr);
		return;
	}
	kernel = model->pfs[p].num_vfs;
	for (size_t i = 0; i < model->n_vfs; i++)
		existing += model->vfs[i].pf == p;
	if (kernel == in->to && existing == in->to) {
		r = numvfs_store_save(nc->opts.state_dir, in->pci_addr, in->to);
		if (r < 0) {
			log_err("numvfs_persist_failed", "pci=%s numvfs=%u state_dir=%s error=\"%s\"",
				in->pci_addr, in->to, nc->opts.state_dir, strerror(-r));
			return; /* the journal stays: the next start tries again */
		}
		reconciled(in, "finished", "the kernel has the count asked: persisted");
		clear_intent(nc, in->pci_addr);
		return;
	}
	if (kernel == in->from && existing == in->from) {
		reconciled(in, "none", "the kernel has the count the change started from");
		clear_intent(nc, in->pci_addr);
		return;
	}
	run = new_run(nc, p, in->from);
	if (!run) {
		log_err("numvfs_reconcile_failed", "pci=%s from=%u to=%u error=\"cannot start the "
			"rollback\"", in->pci_addr, in->from, in->to);
		return;
	}
	log_info("numvfs_change_started", "pf=%s pci=%s from=%u to=%u reason=\"rolling back a "
		 "change from %u to %u interrupted with %u VFs\"", run->name, run->pci, kernel,
		 in->from, in->from, in->to, existing);
	start_run(run);
}

/* At start (the run dir is locked: one daemon writes sysfs; the watch is attached): each
 * change a killed daemon left in flight, so that the kernel and the persisted count agree
 * again. A journal entry from an earlier boot is dropped: the boot restore ran since. */
static void reconcile(struct numvfs_cmd *nc)
{
	struct numvfs_intent *in = NULL;
	struct numvfs_bad_entry *bad = NULL;
	char boot_id[NUMVFS_BOOT_ID_MAX];
	size_t n = 0, n_bad = 0;
	int r;

	r = numvfs_intent_list(nc->opts.state_dir, &in, &n, &bad, &n_bad);
	if (r < 0) {
		log_err("numvfs_reconcile_failed", "dir=%s/%s error=\"%s\"", nc->opts.state_dir,
			NUMVFS_INTENT_DIR, strerror(-r));
		return;
	}
	for (size_t i = 0; i < n_bad; i++)
		log_warn("numvfs_reconcile_skipped", "file=%s reason=\"%s\"", bad[i].name,
			 bad[i].why);
	if (n && numvfs_boot_id(boot_id) < 0)
		boot_id[0] = '\0';
	for (size_t i = 0; i < n; i++)
		reconcile_one(nc, &in[i], boot_id);
	free(in);
	free(bad);
}

const struct ctl_command numvfs_commands[] = {
	{ { "pf", "set", NULL }, true, cmd_pf_set,
	  "pf set PF --numvfs N: set the number of VFs of PF (netdev or PCI address); persisted" },
	{ { NULL } },
};
