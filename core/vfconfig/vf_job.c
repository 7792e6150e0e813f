/* SPDX-License-Identifier: MIT */
/*
 * One VF configuration job as a state machine the loop owner drives. Each step is asked
 * about the world first (VF_ACT_OBSERVE) so that the job decides, from what the owner read,
 * which steps are pointless (a save already done, an MTU with no netdev to carry it, a
 * reset of a VF not on vfio-pci) and whether it can go on at all (the PF netdev gone, the
 * lease gone). The owner's timer is the only clock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/vfconfig/vf_job.h"

__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

bool vf_saved_scanned(struct vf_saved *saved, const struct vf_state *st, bool leased)
{
	struct vf_state clean;

	saved->pf_saved = true;
	saved->orig = *st;
	vf_state_clean(&clean);
	/* a lease's VF is configured as the lease wants: what it had before is not known
	 * after a restart, so its release restores the clean state (a lease's trust or rate
	 * never outlives it); it is not reset now */
	if (leased) {
		saved->orig = clean;
		return false;
	}
	if (!vf_state_differs(st, &clean))
		return false;
	/* left configured by a crash: not the original state, so reset to clean */
	saved->orig = clean;
	return true;
}

static void init(struct vf_job *job, enum vf_job_kind kind, const struct vf_job_target *t,
		 struct vf_saved *saved, enum vf_job_state state)
{
	memset(job, 0, sizeof(*job));
	job->kind = kind;
	job->state = state;
	snprintf(job->pf_name, sizeof(job->pf_name), "%s", t->pf_name);
	snprintf(job->vf_pci, sizeof(job->vf_pci), "%s", t->vf_pci ? t->vf_pci : "");
	job->vf_index = t->vf_index;
	job->timeout_ms = t->timeout_ms;
	job->saved = saved;
}

/* What restores the VF: its saved state, the MTU only when that was saved too. A PF-side
 * field the kernel did not report when the state was saved (a driver without trust or
 * rates in its VF info) goes back to its clean value: a lease's setting never outlives it. */
static void restore_want(const struct vf_saved *saved, struct vf_state *ret_want)
{
	struct vf_state w;
	uint32_t have = saved->orig.fields;

	vf_state_clean(&w);
	if (have & VF_F_MAC)
		memcpy(w.mac, saved->orig.mac, sizeof(w.mac));
	if (have & VF_F_VLAN) {
		w.vlan = saved->orig.vlan;
		w.qos = saved->orig.qos;
	}
	if (have & VF_F_SPOOFCHK)
		w.spoofchk = saved->orig.spoofchk;
	if (have & VF_F_TRUST)
		w.trust = saved->orig.trust;
	if (have & VF_F_LINK)
		w.link_state = saved->orig.link_state;
	if (have & VF_F_RATE) {
		w.min_tx_rate = saved->orig.min_tx_rate;
		w.max_tx_rate = saved->orig.max_tx_rate;
	}
	if (saved->mtu_saved && (have & VF_F_MTU)) {
		w.mtu = saved->orig.mtu;
		w.fields |= VF_F_MTU;
	}
	*ret_want = w;
}

void vf_job_apply(struct vf_job *job, const struct vf_job_target *t, struct vf_saved *saved,
		  const struct vf_state *want)
{
	init(job, VF_JOB_APPLY, t, saved, VF_JOB_SAVE_PF);
	job->want = *want;
}

void vf_job_restore(struct vf_job *job, const struct vf_job_target *t, struct vf_saved *saved,
		    bool sends)
{
	init(job, VF_JOB_RESTORE, t, saved, sends ? VF_JOB_SET_PF : VF_JOB_RESET);
	if (saved->pf_saved)
		restore_want(saved, &job->want);
	else
		vf_state_clean(&job->want);
}

void vf_job_scan(struct vf_job *job, const struct vf_job_target *t)
{
	init(job, VF_JOB_SCAN, t, NULL, VF_JOB_SAVE_PF);
	job->vf_pci[0] = '\0';
	job->vf_index = 0;
}

void vf_job_next_action(const struct vf_job *job, struct vf_job_action *ret)
{
	*ret = (struct vf_job_action){ .step = job->step, .vf_index = job->vf_index };
	if (job->state == VF_JOB_DONE) {
		ret->kind = VF_ACT_FINISHED;
		return;
	}
	if (!job->observed) {
		ret->kind = VF_ACT_OBSERVE;
		return;
	}
	ret->timeout_ms = job->timeout_ms;
	switch (job->state) {
	case VF_JOB_SAVE_PF:
		ret->kind = VF_ACT_GETLINK;
		ret->ifindex = job->world.pf_ifindex;
		break;
	case VF_JOB_SAVE_MTU:
		ret->kind = VF_ACT_GETLINK;
		ret->ifindex = job->world.vf_ifindex;
		break;
	case VF_JOB_SET_PF:
		ret->kind = VF_ACT_SETLINK_VF;
		ret->ifindex = job->world.pf_ifindex;
		ret->want = job->want;
		break;
	case VF_JOB_SET_MTU:
		ret->kind = VF_ACT_SETLINK_MTU;
		ret->ifindex = job->world.vf_ifindex;
		ret->want = job->want;
		break;
	case VF_JOB_RESET:
		ret->kind = VF_ACT_RESET;
		ret->timeout_ms = 0;
		break;
	case VF_JOB_DONE:
		break;
	}
}

enum vf_job_state vf_job_state(const struct vf_job *job)
{
	return job->state;
}

bool vf_job_rolling_back(const struct vf_job *job)
{
	return job->rolling_back;
}

static void enter(struct vf_job *job, enum vf_job_state state)
{
	job->state = state;
	job->step++;
	job->observed = false;
}

static void finish(struct vf_job *job, enum vf_job_outcome outcome)
{
	job->outcome = outcome;
	enter(job, VF_JOB_DONE);
}

/* A failure: the first one is the job's reason. An apply restores what it changed (a
 * timeout may have changed something: the kernel may have acted without answering), and a
 * failure while restoring, or of a restore, leaves the VF dirty. */
static void fail(struct vf_job *job, int error, const char *why)
{
	if (!job->error) {
		job->error = error;
		say(job->why, sizeof(job->why), "%s", why);
	}
	switch (job->kind) {
	case VF_JOB_SCAN:
		finish(job, VF_JOB_FAILED);
		return;
	case VF_JOB_RESTORE:
		finish(job, VF_JOB_DIRTY);
		return;
	case VF_JOB_APPLY:
		break;
	}
	if (job->rolling_back || (job->changed && !job->saved->pf_saved)) {
		finish(job, VF_JOB_DIRTY);
		return;
	}
	job->rolling_back = true;
	restore_want(job->saved, &job->want);
	/* nothing applied before the save finished, or nothing applied at all */
	if (!job->saved->pf_saved || !(job->changed || error == -ETIMEDOUT)) {
		finish(job, VF_JOB_FAILED);
		return;
	}
	enter(job, VF_JOB_SET_PF);
}

/* Still the lease (or the free VF) the job was made for? An apply that rolls back restores
 * the VF whatever became of the lease, as long as it was not leased again. */
static bool current(const struct vf_job *job, const struct vf_job_world *w)
{
	switch (job->kind) {
	case VF_JOB_SCAN:
		return true;
	case VF_JOB_RESTORE:
		return w->same_lease;
	case VF_JOB_APPLY:
		break;
	}
	return w->same_lease && (job->rolling_back || w->leased);
}

/* The step after this one, by the job's order */
static void next(struct vf_job *job)
{
	if (job->kind == VF_JOB_SCAN || job->state == VF_JOB_RESET) {
		finish(job, job->rolling_back ? VF_JOB_FAILED : VF_JOB_OK);
		return;
	}
	enter(job, (enum vf_job_state)(job->state + 1));
}

int vf_job_observe(struct vf_job *job, uint32_t step, const struct vf_job_world *w)
{
	char why[VF_JOB_WHY_MAX];

	if (step != job->step)
		return -ESTALE;
	if (job->state == VF_JOB_DONE || job->observed)
		return -EINVAL;
	job->world = *w;
	if (!current(job, w)) {
		job->error = -ECANCELED;
		say(job->why, sizeof(job->why), "%s: released before it was configured",
		    job->vf_pci);
		finish(job, VF_JOB_DROPPED);
		return 0;
	}
	for (;;) {
		switch (job->state) {
		case VF_JOB_SAVE_PF:
			if (job->kind != VF_JOB_SCAN && job->saved->pf_saved) {
				next(job);
				continue;
			}
			if (!w->pf_ifindex) {
				say(why, sizeof(why), "%s: PF netdev gone", job->pf_name);
				fail(job, -ENODEV, why);
				return 0;
			}
			break;
		case VF_JOB_SAVE_MTU:
			if (job->saved->mtu_saved || !(job->want.fields & VF_F_MTU) ||
			    !w->vf_ifindex) {
				next(job);
				continue;
			}
			break;
		case VF_JOB_SET_PF:
			if (!(job->want.fields & VF_F_PF_ALL)) {
				next(job);
				continue;
			}
			if (!w->pf_ifindex) {
				say(why, sizeof(why), "%s: PF netdev gone", job->pf_name);
				fail(job, -ENODEV, why);
				return 0;
			}
			break;
		case VF_JOB_SET_MTU:
			if (!(job->want.fields & VF_F_MTU) || !w->vf_ifindex) {
				next(job);
				continue;
			}
			break;
		case VF_JOB_RESET:
			if (job->kind != VF_JOB_RESTORE || !w->vfio) {
				next(job);
				continue;
			}
			break;
		case VF_JOB_DONE:
			return 0;
		}
		job->observed = true;
		return 0;
	}
}

/* An input about the request the step issued: only once the step was observed */
static int awaited(const struct vf_job *job, uint32_t step, bool netlink)
{
	if (step != job->step)
		return -ESTALE;
	if (!job->observed || job->state == VF_JOB_DONE)
		return -EINVAL;
	if (netlink != (job->state != VF_JOB_RESET))
		return -EINVAL;
	return 0;
}

int vf_job_link_state(struct vf_job *job, uint32_t step, const struct vf_state *st)
{
	struct vf_state *orig;
	int r = awaited(job, step, true);

	if (r)
		return r;
	if (job->kind == VF_JOB_SCAN)
		return -EINVAL; /* a scan's answer is about every VF: the owner reads it */
	orig = &job->saved->orig;
	switch (job->state) {
	case VF_JOB_SAVE_PF:
		/* the PF-side fields only: the message's own MTU is the PF's */
		orig->fields = (orig->fields & VF_F_MTU) | (st->fields & VF_F_PF_ALL);
		memcpy(orig->mac, st->mac, sizeof(st->mac));
		orig->vlan = st->vlan;
		orig->qos = st->qos;
		orig->spoofchk = st->spoofchk;
		orig->trust = st->trust;
		orig->link_state = st->link_state;
		orig->min_tx_rate = st->min_tx_rate;
		orig->max_tx_rate = st->max_tx_rate;
		job->got_state = true;
		return 0;
	case VF_JOB_SAVE_MTU:
		if (st->fields & VF_F_MTU) {
			orig->mtu = st->mtu;
			orig->fields |= VF_F_MTU;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int vf_job_ack(struct vf_job *job, uint32_t step, int error, const char *extack)
{
	char why[VF_JOB_WHY_MAX];
	int r = awaited(job, step, true);

	if (r)
		return r;
	if (error < 0) {
		say(why, sizeof(why), "%s vf %u: kernel refused: %s%s%s", job->pf_name,
		    job->vf_index, strerror(-error), extack && extack[0] ? ": " : "",
		    extack ? extack : "");
		fail(job, error, why);
		return 0;
	}
	if (job->kind != VF_JOB_SCAN) {
		struct vf_saved *sv = job->saved;

		if (job->state == VF_JOB_SAVE_PF) {
			if (!job->got_state) /* no VF info: a device that never had any */
				vf_state_clean(&sv->orig);
			sv->pf_saved = true;
		} else if (job->state == VF_JOB_SAVE_MTU) {
			sv->mtu_saved = (sv->orig.fields & VF_F_MTU) != 0;
		} else if (!job->rolling_back) {
			job->changed = true;
		}
	}
	next(job);
	return 0;
}

int vf_job_reset_done(struct vf_job *job, uint32_t step, long result)
{
	char why[VF_JOB_WHY_MAX];
	int r = awaited(job, step, false);

	if (r)
		return r;
	if (result < 0) {
		say(why, sizeof(why), "%s: function-level reset: %s", job->vf_pci,
		    strerror((int)-result));
		fail(job, (int)result, why);
		return 0;
	}
	next(job);
	return 0;
}

int vf_job_failed(struct vf_job *job, uint32_t step, int error, const char *why)
{
	if (step != job->step)
		return -ESTALE;
	if (job->state == VF_JOB_DONE || error >= 0)
		return -EINVAL;
	fail(job, error, why);
	return 0;
}

int vf_job_timeout(struct vf_job *job, uint32_t step)
{
	char why[VF_JOB_WHY_MAX];
	int r = awaited(job, step, true);

	if (r)
		return r;
	say(why, sizeof(why), "%s: no answer from the kernel in %u ms", job->pf_name,
	    job->timeout_ms);
	fail(job, -ETIMEDOUT, why);
	return 0;
}

int vf_job_result(const struct vf_job *job, enum vf_job_outcome *ret_outcome, int *ret_error,
		  const char **ret_why)
{
	if (job->state != VF_JOB_DONE)
		return -EINPROGRESS;
	if (ret_outcome)
		*ret_outcome = job->outcome;
	if (ret_error)
		*ret_error = job->outcome == VF_JOB_OK ? 0 : job->error;
	if (ret_why)
		*ret_why = job->outcome == VF_JOB_OK ? "" : job->why;
	return 0;
}
