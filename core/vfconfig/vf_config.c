/* SPDX-License-Identifier: MIT */
/*
 * The VF configuration jobs' owner on the daemon's io_uring (the jobs themselves:
 * core/vfconfig/vf_job.h). It keeps one queue of jobs per PF with one request in flight, so
 * the kernel sees one PF's changes in order; sends each job's requests on a NETLINK_ROUTE
 * socket, matches answers by sequence number and bounds each with a timer; writes a vfio-pci
 * VF's sysfs reset; and does what a finished job means for the lease and the VF.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/base/clock.h"
#include "core/base/container_of.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vfconfig/vf_config.h"
#include "core/vfconfig/vf_config_want.h"
#include "core/vfconfig/vf_job.h"
#include "shm/seqlock.h"
#include "shm/state.h"

#define RECV_BUF (64 * 1024)

struct job {
	struct job *next;
	struct vf_job m;
	uint32_t slot; /* a scan: the PF index */
	uint64_t gen;  /* the lease generation it is for */
	struct pending_completion *pc; /* an apply: the request waiting for it */
};

struct pf_queue {
	struct job *head, *tail;
	bool in_flight;
	uint32_t seq;  /* of the request in flight */
	uint32_t step; /* the head job's step that request is for */
	int ifindex;           /* of the PF netdev, cached: resolving costs syscalls */
	uint64_t resolved_ns;  /* when (CLOCK_MONOTONIC_COARSE); 0: never */
};

/* Every io_uring request we own, so fini frees those whose completion never came. */
struct io {
	struct loop_op op;
	struct io *prev, *next;
	struct vf_config *vc;
	uint32_t pf, seq, step;
	int fd; /* a reset: the VF's reset attribute */
	struct __kernel_timespec ts;
	size_t len;
	uint8_t buf[];
};

struct vf_config {
	struct engine_hooks hooks; /* first: the engine hands it back */
	struct io_uring *ring;
	struct engine *e;
	struct vf_config_opts opts;
	char sysfs_pci[128];
	int fd;
	uint32_t next_seq;
	struct pf_queue *pfs;
	struct vf_saved *saved; /* per VF slot */
	struct io ios; /* list head */
	struct loop_op recv_op;
	bool recv_armed;
	uint8_t *rbuf;
	unsigned busy;
};

static void run_pf(struct vf_config *vc, uint32_t pf);
static void on_reset(struct loop_op *op, const struct io_uring_cqe *cqe);

static struct vfpool_shm_vf *vf_rec(const struct vf_config *vc, uint32_t slot)
{
	return &state_vfs(vc->e->hdr)[slot];
}

static struct vfpool_shm_pf *pf_rec(const struct vf_config *vc, uint32_t pf)
{
	return &state_pfs(vc->e->hdr)[pf];
}

static const char *pf_name(const struct vf_config *vc, uint32_t pf)
{
	const struct vfpool_shm_pf *p = pf_rec(vc, pf);

	return p->netdev[0] ? p->netdev : p->pci_addr;
}

/* ---- io bookkeeping ------------------------------------------------------------------- */

static struct io *io_new(struct vf_config *vc, loop_complete_fn fn, uint32_t pf, size_t len)
{
	struct io *io = calloc(1, sizeof(*io) + len);

	if (!io)
		return NULL;
	io->op.complete = fn;
	io->vc = vc;
	io->pf = pf;
	io->fd = -1;
	io->len = len;
	io->next = vc->ios.next;
	io->prev = &vc->ios;
	vc->ios.next->prev = io;
	vc->ios.next = io;
	return io;
}

static void io_free(struct io *io)
{
	io->prev->next = io->next;
	io->next->prev = io->prev;
	if (io->fd >= 0)
		close(io->fd);
	free(io);
}

/* ---- the netlink socket --------------------------------------------------------------- */

static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe);

static void arm_recv(struct vf_config *vc)
{
	struct io_uring_sqe *sqe = loop_sqe(vc->ring, &vc->recv_op);

	io_uring_prep_recv(sqe, vc->fd, vc->rbuf, RECV_BUF, 0);
	io_uring_sqe_set_data(sqe, &vc->recv_op);
	vc->recv_armed = true;
}

static void on_timer(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct io *t = container_of(op, struct io, op);
	struct vf_config *vc = t->vc;
	struct pf_queue *q = &vc->pfs[t->pf];

	if (cqe->res == -ETIME && q->in_flight && q->seq == t->seq) {
		q->in_flight = false;
		vf_job_timeout(&q->head->m, t->step);
		run_pf(vc, t->pf);
	}
	io_free(t);
}

static void on_send(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct io *s = container_of(op, struct io, op);
	struct vf_config *vc = s->vc;
	struct pf_queue *q = &vc->pfs[s->pf];

	if (cqe->res < 0 && q->in_flight && q->seq == s->seq) {
		char why[VF_JOB_WHY_MAX];

		q->in_flight = false;
		snprintf(why, sizeof(why), "%s: netlink send: %s", q->head->m.pf_name,
			 strerror(-cqe->res));
		vf_job_failed(&q->head->m, s->step, cqe->res, why);
		run_pf(vc, s->pf);
	}
	io_free(s);
}

/* Sends msg for the step of PF pf's head job and arms its timer. Takes the message. */
static int send_msg(struct vf_config *vc, uint32_t pf, const struct vf_job_action *a,
		    struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct io *s = io_new(vc, on_send, pf, h->nlmsg_len), *t;
	struct io_uring_sqe *sqe;

	if (!s) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	t = io_new(vc, on_timer, pf, 0);
	if (!t) {
		io_free(s);
		nlmsg_free(msg);
		return -ENOMEM;
	}
	h->nlmsg_seq = ++vc->next_seq;
	memcpy(s->buf, h, h->nlmsg_len);
	nlmsg_free(msg);
	s->seq = t->seq = vc->next_seq;
	s->step = t->step = a->step;
	vc->pfs[pf].seq = vc->next_seq;
	vc->pfs[pf].step = a->step;
	vc->pfs[pf].in_flight = true;
	sqe = loop_sqe(vc->ring, &s->op);
	io_uring_prep_send(sqe, vc->fd, s->buf, s->len, 0);
	io_uring_sqe_set_data(sqe, &s->op);
	loop_timer(vc->ring, &t->op, &t->ts, a->timeout_ms);
	return 0;
}

/* The timer of the request answered: cancelled, its own completion frees it. */
static void cancel_timer(struct vf_config *vc, uint32_t seq)
{
	for (struct io *io = vc->ios.next; io != &vc->ios; io = io->next) {
		if (io->op.complete == on_timer && io->seq == seq) {
			struct io_uring_sqe *sqe = loop_sqe(vc->ring, NULL);

			io_uring_prep_timeout_remove(sqe, (__u64)(uintptr_t)&io->op, 0);
			io_uring_sqe_set_data(sqe, NULL);
			return;
		}
	}
}

/* ---- jobs ----------------------------------------------------------------------------- */

static void push_job(struct vf_config *vc, uint32_t pf, struct job *j)
{
	struct pf_queue *q = &vc->pfs[pf];

	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	vc->busy++;
	run_pf(vc, pf);
}

static void pop_job(struct vf_config *vc, uint32_t pf)
{
	struct pf_queue *q = &vc->pfs[pf];
	struct job *j = q->head;

	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	vc->busy--;
	free(j);
}

static int ifindex_of(const char *name)
{
	return name[0] ? (int)if_nametoindex(name) : 0;
}

static bool is_vfio(const struct vf_config *vc, uint32_t slot)
{
	char path[256], target[256];
	ssize_t n;

	/* a simulated host has no sysfs behind its VFs: nothing to look up */
	if (vc->e->hdr->host_kind != VFPOOL_HOST_UDEV)
		return false;
	snprintf(path, sizeof(path), "%s/%s/driver", vc->sysfs_pci, vf_rec(vc, slot)->pci_addr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strcmp(basename(target), "vfio-pci") == 0;
}

static void record_cfg(struct vf_config *vc, uint32_t slot, const struct vf_state *s,
		       uint8_t cfg_state)
{
	struct vfpool_shm_vf *vf = vf_rec(vc, slot);

	seqlock_write_begin(&vc->e->hdr->seq);
	if (s->fields & VF_F_MAC)
		memcpy(vf->mac, s->mac, sizeof(vf->mac));
	vf->vlan = s->vlan;
	vf->vlan_qos = s->qos;
	vf->mtu = (s->fields & VF_F_MTU) ? s->mtu : 0;
	vf->cfg_state = cfg_state;
	seqlock_write_end(&vc->e->hdr->seq);
}

/* An allocation's configuration is over: its request may complete (res < 0: it failed, the
 * lease is undone). A job has no request to tell after the first time. */
static void configured(struct job *j, int res, const char *why)
{
	struct pending_completion *pc = j->pc;

	j->pc = NULL;
	if (pc)
		pending_configured(pc, res, why);
}

/* A VF that could not be restored: quarantined, never handed on dirty. */
static void quarantine(struct vf_config *vc, const struct job *j, int error, const char *why)
{
	struct vfpool_shm_vf *vf = vf_rec(vc, j->slot);
	char reason[VFPOOL_REASON_MAX];

	snprintf(reason, sizeof(reason), "reset failed: %s", strerror(-error));
	log_err("vf_quarantined", "vf=%s reason=\"%s\"", vf->pci_addr, why);
	if (j->m.kind == VF_JOB_APPLY) {
		/* clear the lease but keep the claim: quarantine drops it with the bit set */
		engine_undo_lease(vc->e, j->slot, j->gen);
		engine_hold_vf(vc->e, j->slot);
	}
	engine_quarantine(vc->e, j->slot, reason);
}

/* What a finished job means for the lease and the VF, and for the request waiting. */
static void finish_job(struct vf_config *vc, uint32_t pf)
{
	struct job *j = vc->pfs[pf].head;
	struct vfpool_shm_vf *vf = j->m.kind == VF_JOB_SCAN ? NULL : vf_rec(vc, j->slot);
	enum vf_job_outcome outcome;
	const char *why;
	int error;

	vf_job_result(&j->m, &outcome, &error, &why);
	switch (outcome) {
	case VF_JOB_OK:
		if (j->m.kind == VF_JOB_APPLY)
			record_cfg(vc, j->slot, &j->m.want, VFPOOL_CFG_APPLIED);
		else if (j->m.kind == VF_JOB_RESTORE)
			engine_return_vf(vc->e, j->slot);
		break;
	case VF_JOB_FAILED:
		if (j->m.kind == VF_JOB_SCAN) {
			log_warn("vf_scan_failed", "pf=%s error=\"%s\"", pf_name(vc, pf), why);
			break;
		}
		/* rolled back: the VF is as it was, back to the pool; the client learns why */
		log_warn("vf_config_failed", "vf=%s vm=%s vnic=%s error=\"%s\"", vf->pci_addr,
			 vf->vm_id, vf->vnic_id, why);
		engine_undo_lease(vc->e, j->slot, j->gen);
		break;
	case VF_JOB_DIRTY:
		quarantine(vc, j, error, why);
		break;
	case VF_JOB_DROPPED:
		log_info("vf_config_dropped", "vf=%s generation=%llu now=%llu", vf->pci_addr,
			 (unsigned long long)j->gen, (unsigned long long)vf->lease_gen);
		break;
	}
	configured(j, error, why);
	pop_job(vc, pf);
}

/* What the head job's step needs to know about the VF and its PF, read now. */
static void read_world(struct vf_config *vc, uint32_t pf, const struct job *j,
		       struct vf_job_world *w)
{
	const struct vfpool_shm_vf *vf;

	memset(w, 0, sizeof(*w));
	w->pf_ifindex = ifindex_of(pf_rec(vc, pf)->netdev);
	if (j->m.kind == VF_JOB_SCAN)
		return;
	vf = vf_rec(vc, j->slot);
	w->same_lease = vf->lease_gen == j->gen;
	w->leased = vf->state == VFPOOL_VF_LEASED;
	w->vf_ifindex = ifindex_of(vf->netdev);
	/* a readlink: only for a restore, the one job that resets (its observe may skip
	 * ahead to the reset) */
	w->vfio = j->m.kind == VF_JOB_RESTORE && is_vfio(vc, j->slot);
}

/* Writes the VF's sysfs reset (a function-level reset) for the head job's step. */
static void issue_reset(struct vf_config *vc, uint32_t pf, uint32_t step)
{
	struct pf_queue *q = &vc->pfs[pf];
	const char *pci = vf_rec(vc, q->head->slot)->pci_addr;
	struct io *w = io_new(vc, on_reset, pf, 1);
	struct io_uring_sqe *sqe;
	char path[256], why[VF_JOB_WHY_MAX];
	int r;

	if (!w) {
		snprintf(why, sizeof(why), "%s: reset: %s", pci, strerror(ENOMEM));
		vf_job_failed(&q->head->m, step, -ENOMEM, why);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/reset", vc->sysfs_pci, pci);
	w->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w->fd < 0) {
		r = -errno;
		io_free(w);
		snprintf(why, sizeof(why), "%s: reset: %s", pci, strerror(-r));
		vf_job_failed(&q->head->m, step, r, why);
		return;
	}
	w->buf[0] = '1';
	w->seq = ++vc->next_seq;
	w->step = step;
	q->seq = w->seq;
	q->step = step;
	q->in_flight = true;
	sqe = loop_sqe(vc->ring, &w->op);
	io_uring_prep_write(sqe, w->fd, w->buf, 1, 0);
	io_uring_sqe_set_data(sqe, &w->op);
}

/* Drives PF pf's head job until it waits on the kernel, or the queue is empty. */
static void run_pf(struct vf_config *vc, uint32_t pf)
{
	struct pf_queue *q = &vc->pfs[pf];

	while (q->head && !q->in_flight) {
		struct job *j = q->head;
		struct nl_msg *msg = NULL;
		struct vf_job_action a;
		struct vf_job_world w;
		char why[VF_JOB_WHY_MAX];
		int r = 0;

		vf_job_next_action(&j->m, &a);
		switch (a.kind) {
		case VF_ACT_OBSERVE:
			read_world(vc, pf, j, &w);
			vf_job_observe(&j->m, a.step, &w);
			continue;
		case VF_ACT_GETLINK:
			r = vf_msg_build_getlink(a.ifindex, &msg);
			break;
		case VF_ACT_SETLINK_VF:
			r = vf_msg_build_pf(a.ifindex, a.vf_index, &a.want, &msg);
			break;
		case VF_ACT_SETLINK_MTU:
			r = vf_msg_build_mtu(a.ifindex, a.want.mtu, &msg);
			break;
		case VF_ACT_RESET:
			issue_reset(vc, pf, a.step);
			continue;
		case VF_ACT_FINISHED:
			finish_job(vc, pf);
			continue;
		}
		if (r < 0) {
			snprintf(why, sizeof(why), "%s: building the request: %s", j->m.pf_name,
				 strerror(-r));
			vf_job_failed(&j->m, a.step, r, why);
			continue;
		}
		r = send_msg(vc, pf, &a, msg);
		if (r < 0) {
			snprintf(why, sizeof(why), "%s: %s", j->m.pf_name, strerror(-r));
			vf_job_failed(&j->m, a.step, r, why);
		}
	}
}

static void on_reset(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct io *w = container_of(op, struct io, op);
	struct vf_config *vc = w->vc;
	uint32_t pf = w->pf, seq = w->seq, step = w->step;
	struct pf_queue *q = &vc->pfs[pf];

	io_free(w);
	if (!q->in_flight || !q->head || q->seq != seq)
		return;
	q->in_flight = false;
	vf_job_reset_done(&q->head->m, step, cqe->res);
	run_pf(vc, pf);
}

/* ---- replies -------------------------------------------------------------------------- */

/* The kernel's extended-ack text, or "". */
static const char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e), len = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return "";
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off >= len || nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
				    (int)(len - off), NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return "";
	/* a string attribute the kernel terminates; make sure before using it */
	if (((char *)nla_data(tb[NLMSGERR_ATTR_MSG]))[nla_len(tb[NLMSGERR_ATTR_MSG]) - 1] != '\0')
		return "";
	return nla_data(tb[NLMSGERR_ATTR_MSG]);
}

/* Who a job is about, as its messages name it. */
static void job_target(const struct vf_config *vc, uint32_t pf, const struct vfpool_shm_vf *vf,
		       struct vf_job_target *ret_t)
{
	*ret_t = (struct vf_job_target){ .pf_name = pf_name(vc, pf),
					 .vf_pci = vf ? vf->pci_addr : NULL,
					 .vf_index = vf ? vf->vf_index : 0,
					 .timeout_ms = vc->opts.timeout_ms };
}

/* A PF's VFs as the kernel has them at start: what each looked like is saved, and one left
 * configured without a lease (a crash) is held and reset before anyone gets it. */
static void scan_reply(struct vf_config *vc, uint32_t pf, const struct nlmsghdr *nlh)
{
	const struct vfpool_shm_pf *p = pf_rec(vc, pf);

	for (uint32_t i = 0; i < p->total_vfs; i++) {
		uint32_t slot = p->vf_first + i;
		struct vfpool_shm_vf *vf = vf_rec(vc, slot);
		struct vf_job_target t;
		struct vf_state st;
		struct job *j;

		if (vf_msg_parse(nlh, vf->vf_index, &st) < 0)
			continue;
		if (!vf_saved_scanned(&vc->saved[slot], &st, vf->state == VFPOOL_VF_LEASED))
			continue;
		if (engine_hold_vf(vc->e, slot) < 0)
			continue;
		j = calloc(1, sizeof(*j));
		if (!j) {
			engine_quarantine(vc->e, slot, "reset failed: out of memory");
			continue;
		}
		log_info("vf_dirty_at_start", "vf=%s pf=%s action=reset", vf->pci_addr,
			 pf_name(vc, pf));
		job_target(vc, pf, vf, &t);
		vf_job_restore(&j->m, &t, &vc->saved[slot], true);
		j->slot = slot;
		j->gen = vf->lease_gen;
		push_job(vc, pf, j);
	}
}

/* One message from the kernel: an answer to the request in flight on some PF, or late. */
static void on_reply(struct vf_config *vc, const struct nlmsghdr *nlh)
{
	struct pf_queue *q = NULL;
	const struct nlmsgerr *e;
	struct vf_state st;
	uint32_t pf;
	struct job *j;

	for (pf = 0; pf < vc->e->hdr->n_pfs; pf++) {
		if (vc->pfs[pf].in_flight && vc->pfs[pf].seq == nlh->nlmsg_seq) {
			q = &vc->pfs[pf];
			break;
		}
	}
	if (!q || !q->head)
		return; /* late answer to a request that timed out */
	j = q->head;
	if (nlh->nlmsg_type == RTM_NEWLINK) {
		if (j->m.kind == VF_JOB_SCAN)
			scan_reply(vc, pf, nlh);
		else if (vf_job_state(&j->m) == VF_JOB_SAVE_PF &&
			 vf_msg_parse(nlh, j->m.vf_index, &st) == 0)
			vf_job_link_state(&j->m, q->step, &st);
		else if (vf_job_state(&j->m) == VF_JOB_SAVE_MTU && vf_msg_parse_mtu(nlh, &st) == 0)
			vf_job_link_state(&j->m, q->step, &st);
		return;
	}
	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return;
	cancel_timer(vc, q->seq);
	q->in_flight = false;
	e = NLMSG_DATA(nlh);
	vf_job_ack(&j->m, q->step, e->error, extack_msg(nlh));
	run_pf(vc, pf);
}

static void on_recv(struct loop_op *op, const struct io_uring_cqe *cqe)
{
	struct vf_config *vc = container_of(op, struct vf_config, recv_op);
	int len = cqe->res;

	vc->recv_armed = false;
	if (len == -ECANCELED || vc->fd < 0)
		return;
	if (len > 0) {
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)vc->rbuf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len))
			on_reply(vc, nlh);
	} else if (len < 0 && len != -EINTR && len != -ENOBUFS) {
		log_warn("vf_config_recv_failed", "error=\"%s\"", strerror(-len));
	}
	arm_recv(vc);
}

/* ---- engine hooks --------------------------------------------------------------------- */

/* The PF netdev's ifindex, re-resolved at most once a second: this runs for every lease,
 * and if_nametoindex costs three syscalls; a netdev that appears or goes is seen within
 * the second. */
static int pf_ifindex(const struct vf_config *vc, uint32_t pf)
{
	struct pf_queue *q = &vc->pfs[pf];
	uint64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);

	if (!q->resolved_ns || now - q->resolved_ns >= 1000000000u) {
		q->ifindex = ifindex_of(pf_rec(vc, pf)->netdev);
		q->resolved_ns = now ? now : 1;
	}
	return q->ifindex;
}

static bool sends(const struct vf_config *vc, uint32_t pf)
{
	if (vc->opts.mode == VF_CONFIG_OFF)
		return false;
	return vc->opts.mode == VF_CONFIG_ON || pf_ifindex(vc, pf) > 0;
}

static void lease_made(struct engine_hooks *h, struct engine *e, struct pending_completion *pc,
		       const struct request *req)
{
	struct vf_config *vc = (struct vf_config *)h;
	uint32_t slot = pc->slot;
	struct vfpool_shm_vf *vf = vf_rec(vc, slot);
	struct vf_job_target t;
	struct vf_state want;
	struct job *j;

	/* the record holds the network the engine resolved (a profile's, when named): the
	 * request copy may carry only the profile */
	vf_config_want(e->policy, vf->network, req, &want);
	if (!sends(vc, vf->pf_index)) {
		/* no PF netdev here (a simulated host): what would be applied is recorded */
		record_cfg(vc, slot, &want, VFPOOL_CFG_APPLIED);
		seqlock_write_begin(&vc->e->hdr->seq);
		vf->lease_flags |= VFPOOL_LEASE_F_CFG_RECORDED;
		seqlock_write_end(&vc->e->hdr->seq);
		pending_configured(pc, 0, NULL);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		char why[VF_JOB_WHY_MAX];

		snprintf(why, sizeof(why), "%s: configuration: out of memory", vf->pci_addr);
		engine_undo_lease(vc->e, slot, pc->generation);
		pending_configured(pc, -ENOMEM, why);
		return;
	}
	job_target(vc, vf->pf_index, vf, &t);
	vf_job_apply(&j->m, &t, &vc->saved[slot], &want);
	j->slot = slot;
	j->gen = pc->generation;
	j->pc = pc;
	record_cfg(vc, slot, &want, VFPOOL_CFG_PENDING);
	/* may fail at once (the PF netdev gone): the request then completes inline */
	push_job(vc, vf->pf_index, j);
}

static bool lease_ended(struct engine_hooks *h, struct engine *e, uint32_t slot,
			uint64_t generation)
{
	struct vf_config *vc = (struct vf_config *)h;
	const struct vfpool_shm_vf *vf = vf_rec(vc, slot);
	bool send = sends(vc, vf->pf_index);
	struct vf_job_target t;
	struct job *j;

	(void)e;
	if (!send && !is_vfio(vc, slot))
		return false;
	j = calloc(1, sizeof(*j));
	if (!j) {
		engine_hold_vf(vc->e, slot);
		engine_quarantine(vc->e, slot, "reset failed: out of memory");
		return true;
	}
	job_target(vc, vf->pf_index, vf, &t);
	vf_job_restore(&j->m, &t, &vc->saved[slot], send);
	j->slot = slot;
	j->gen = generation;
	push_job(vc, vf->pf_index, j);
	return true;
}

/* ---- life ----------------------------------------------------------------------------- */

int vf_config_parse_mode(const char *s, enum vf_config_mode *ret_mode)
{
	if (strcmp(s, "auto") == 0)
		*ret_mode = VF_CONFIG_AUTO;
	else if (strcmp(s, "on") == 0)
		*ret_mode = VF_CONFIG_ON;
	else if (strcmp(s, "off") == 0)
		*ret_mode = VF_CONFIG_OFF;
	else
		return -EINVAL;
	return 0;
}

static int open_rtnl(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	/* the kernel's reason text with each NACK; best effort on old kernels */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

int vf_config_new(struct io_uring *ring, struct engine *e, const struct vf_config_opts *opts,
		  struct vf_config **ret_vc)
{
	struct vf_config *vc = calloc(1, sizeof(*vc));
	/* the segment's capacities: PFs that come after start take the room left */
	uint32_t n_pfs = e->hdr->pf_capacity ? e->hdr->pf_capacity : 1;
	uint32_t n_vfs = e->hdr->vf_capacity ? e->hdr->vf_capacity : 1;

	if (!vc)
		return -ENOMEM;
	vc->ring = ring;
	vc->e = e;
	vc->opts = *opts;
	if (!vc->opts.timeout_ms)
		vc->opts.timeout_ms = VF_CONFIG_DEFAULT_TIMEOUT_MS;
	snprintf(vc->sysfs_pci, sizeof(vc->sysfs_pci), "%s",
		 opts->sysfs_pci ? opts->sysfs_pci : "/sys/bus/pci/devices");
	vc->ios.next = vc->ios.prev = &vc->ios;
	vc->fd = -1;
	vc->pfs = calloc(n_pfs, sizeof(*vc->pfs));
	vc->saved = calloc(n_vfs, sizeof(*vc->saved));
	vc->rbuf = malloc(RECV_BUF);
	if (!vc->pfs || !vc->saved || !vc->rbuf) {
		if (opts->nl_fd >= 0)
			close(opts->nl_fd);
		vf_config_free(vc);
		return -ENOMEM;
	}
	vc->fd = opts->nl_fd >= 0 ? opts->nl_fd : open_rtnl();
	if (vc->fd < 0) {
		int r = vc->fd;

		vf_config_free(vc);
		return r;
	}
	vc->recv_op.complete = on_recv;
	vc->hooks.lease_made = lease_made;
	vc->hooks.lease_ended = lease_ended;
	e->hooks = &vc->hooks;
	arm_recv(vc);
	*ret_vc = vc;
	return 0;
}

void vf_config_scan(struct vf_config *vc)
{
	for (uint32_t pf = 0; pf < vc->e->hdr->n_pfs; pf++) {
		struct vf_job_target t;
		struct job *j;

		if (!sends(vc, pf))
			continue;
		j = calloc(1, sizeof(*j));
		if (!j)
			return;
		job_target(vc, pf, NULL, &t);
		vf_job_scan(&j->m, &t);
		j->slot = pf;
		push_job(vc, pf, j);
	}
}

unsigned vf_config_busy(const struct vf_config *vc)
{
	return vc->busy;
}

void vf_config_free(struct vf_config *vc)
{
	if (!vc)
		return;
	if (vc->e && vc->e->hooks == &vc->hooks)
		vc->e->hooks = NULL;
	for (uint32_t pf = 0; vc->pfs && pf < vc->e->hdr->n_pfs; pf++) {
		while (vc->pfs[pf].head) {
			struct job *j = vc->pfs[pf].head;

			vc->pfs[pf].head = j->next;
			free(j);
		}
	}
	while (vc->ios.next != &vc->ios)
		io_free(vc->ios.next);
	if (vc->fd >= 0)
		close(vc->fd);
	free(vc->rbuf);
	free(vc->saved);
	free(vc->pfs);
	free(vc);
}
