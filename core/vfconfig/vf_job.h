/* SPDX-License-Identifier: MIT */
/*
 * One VF configuration job as a state machine its owner drives (core/vfconfig/vf_config.c:
 * the netlink socket, the timers and the sysfs writes on the daemon's io_uring). No I/O
 * here: the owner reads the world, issues the action, and feeds back what came of it.
 *
 * An apply (a new lease) first saves what the VF looked like (RTM_GETLINK of the PF, and of
 * the VF netdev for its MTU) unless that is saved already, then sets the lease's
 * configuration (RTM_SETLINK of the PF for the VF, of the VF netdev for its MTU). A failure
 * rolls back what was applied, to the saved state, and the lease is undone; a failure to
 * roll back leaves the VF dirty. A restore (a lease ended, or a VF found configured at start)
 * sets the saved state back, then resets a vfio-pci VF (its sysfs reset); a failure leaves
 * it dirty. A scan reads a PF's VFs (RTM_GETLINK); the owner decides what they say.
 */
#ifndef VFPOOL_CORE_VF_JOB_H
#define VFPOOL_CORE_VF_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vfconfig/vf_config_msg.h"
#include "shm/layout.h"

#define VF_JOB_WHY_MAX 120

/* What a VF looked like before vfpool first changed it: kept per VF across its leases. */
struct vf_saved {
	bool pf_saved;  /* orig holds its PF-side state */
	bool mtu_saved; /* orig holds its netdev's MTU */
	struct vf_state orig;
};

/* Whether a PF scan says a VF must be reset before its next lease: a VF not leased that
 * differs from the clean state was left configured (a crash), and its original state is
 * then the clean one. A leased VF is not reset, and its original state is the clean one
 * too (what it had before its lease died with the daemon that made it). Otherwise what the
 * scan read (st) is saved. */
bool vf_saved_scanned(struct vf_saved *saved, const struct vf_state *st, bool leased);

enum vf_job_kind {
	VF_JOB_APPLY,
	VF_JOB_RESTORE,
	VF_JOB_SCAN,
};

enum vf_job_state {
	VF_JOB_SAVE_PF,  /* RTM_GETLINK of the PF: the VF's state (a scan: all its VFs') */
	VF_JOB_SAVE_MTU, /* RTM_GETLINK of the VF netdev: its MTU */
	VF_JOB_SET_PF,   /* RTM_SETLINK of the PF: the VF's state */
	VF_JOB_SET_MTU,  /* RTM_SETLINK of the VF netdev: its MTU */
	VF_JOB_RESET,    /* the VF's function-level reset */
	VF_JOB_DONE,     /* see vf_job_result() */
};

/* What the owner read just before a step (vf_job_observe): the job never looks itself. */
struct vf_job_world {
	bool same_lease; /* the VF's lease generation is still the job's */
	bool leased;     /* the VF is leased */
	int pf_ifindex;  /* the PF netdev's, 0: not in this network namespace */
	int vf_ifindex;  /* the VF netdev's, 0: none here (bound to vfio-pci, or gone) */
	bool vfio;       /* the VF is bound to vfio-pci */
};

enum vf_job_action_kind {
	VF_ACT_OBSERVE,     /* read the world, then vf_job_observe() */
	VF_ACT_GETLINK,     /* RTM_GETLINK of ifindex: vf_job_link_state() with what its
			     * RTM_NEWLINK says about VF vf_index, then vf_job_ack() */
	VF_ACT_SETLINK_VF,  /* RTM_SETLINK of the PF ifindex: want for VF vf_index; vf_job_ack() */
	VF_ACT_SETLINK_MTU, /* RTM_SETLINK of ifindex: want.mtu; vf_job_ack() */
	VF_ACT_RESET,       /* write the VF's sysfs reset; vf_job_reset_done() */
	VF_ACT_FINISHED,    /* vf_job_result() */
};

struct vf_job_action {
	enum vf_job_action_kind kind;
	uint32_t step;       /* changes on every transition: inputs for an older step are stale */
	uint32_t timeout_ms; /* GETLINK, SETLINK_*: bounds the kernel's answer (vf_job_timeout) */
	int ifindex;
	uint32_t vf_index;
	struct vf_state want;
};

enum vf_job_outcome {
	VF_JOB_OK,      /* applied, restored, read */
	VF_JOB_FAILED,  /* apply: failed and rolled back (or nothing applied); scan: not read */
	VF_JOB_DIRTY,   /* changed and not restored: the VF is to be quarantined */
	VF_JOB_DROPPED, /* apply, restore: the lease went (released, leased again) meanwhile */
};

/* The owner embeds it. It may read kind, pf_name, vf_index and want (what an apply that
 * finished VF_JOB_OK applied); the rest is the job's own, read through the functions below. */
struct vf_job {
	enum vf_job_kind kind;
	enum vf_job_state state;
	uint32_t step;
	bool observed;     /* the world was read for this step */
	struct vf_job_world world;
	char pf_name[VFPOOL_IFNAME_MAX]; /* its netdev, or its PCI address (as long) */
	char vf_pci[VFPOOL_PCI_ADDR_MAX];
	uint32_t vf_index;
	uint32_t timeout_ms;
	struct vf_saved *saved; /* the VF's (NULL for a scan) */
	struct vf_state want;
	bool changed;      /* a SETLINK of the apply was acknowledged: a failure restores */
	bool rolling_back; /* an apply that failed, now restoring */
	bool got_state;    /* the PF's RTM_NEWLINK described the VF */
	enum vf_job_outcome outcome;
	int error;         /* the first failure, negative errno */
	char why[VF_JOB_WHY_MAX];
};

/* The VF a job is about, and how long the kernel may take to answer each request. pf_name
 * names the PF in messages (its netdev, else its PCI address). */
struct vf_job_target {
	const char *pf_name;
	const char *vf_pci;
	uint32_t vf_index;
	uint32_t timeout_ms;
};

/* An apply of want to the VF whose saved state is saved. */
void vf_job_apply(struct vf_job *job, const struct vf_job_target *t, struct vf_saved *saved,
		  const struct vf_state *want);
/* A restore of the saved state (the clean one when nothing was saved). sends: VF
 * configuration goes to the kernel here (else only the reset, for a vfio-pci VF). */
void vf_job_restore(struct vf_job *job, const struct vf_job_target *t, struct vf_saved *saved,
		    bool sends);
/* A read of every VF of the PF (t->vf_pci, t->vf_index unused). */
void vf_job_scan(struct vf_job *job, const struct vf_job_target *t);

/* Pure: the same action until an input is accepted. */
void vf_job_next_action(const struct vf_job *job, struct vf_job_action *ret_action);
enum vf_job_state vf_job_state(const struct vf_job *job);
bool vf_job_rolling_back(const struct vf_job *job);

/* Inputs. Each returns 0 when it was taken, -ESTALE for an input of an earlier step,
 * -EINVAL when no such input is awaited. */
/* The world as the owner read it for the step vf_job_next_action asked about: steps it
 * makes pointless are skipped; a PF netdev gone fails the job, a lease gone drops it. */
int vf_job_observe(struct vf_job *job, uint32_t step, const struct vf_job_world *world);
/* What an RTM_NEWLINK answering a GETLINK says about the VF (fields it lacks are unset). */
int vf_job_link_state(struct vf_job *job, uint32_t step, const struct vf_state *state);
/* The kernel's NLMSG_ERROR: error 0 acknowledges, < 0 refuses (extack: its text, or ""). */
int vf_job_ack(struct vf_job *job, uint32_t step, int error, const char *extack);
/* The sysfs reset write completed: result as write(2) returned it (bytes, or -errno). */
int vf_job_reset_done(struct vf_job *job, uint32_t step, long result);
/* The step's request could not be issued or sent (why names the object and the reason). */
int vf_job_failed(struct vf_job *job, uint32_t step, int error, const char *why);
/* No answer within the action's timeout_ms. */
int vf_job_timeout(struct vf_job *job, uint32_t step);

/* After FINISHED: the outcome; *ret_error (negative errno) and *ret_why the first failure,
 * when there was one. -EINPROGRESS before. */
int vf_job_result(const struct vf_job *job, enum vf_job_outcome *ret_outcome, int *ret_error,
		  const char **ret_why);

#endif
