/* SPDX-License-Identifier: MIT */
/*
 * One sriov_numvfs change as a state machine the loop owner drives. The op tracks the set
 * of the PF's VFs it believes present (from the model, then add/remove events or rescans):
 * "gone" is that set empty, "done" is it holding the target. Completion is therefore the
 * udev events, never a sleep; the owner's timer is the only clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/array.h"
#include "core/base/reason.h"
#include "core/numvfs/numvfs.h"

struct numvfs_op {
	char pf[VFPOOL_PCI_ADDR_MAX];
	enum numvfs_state state;
	uint32_t step;
	uint32_t timeout_ms;
	unsigned target, requested, last_known;
	bool rolling_back, retried_busy, restored;
	int error; /* the first failure, negative errno */
	char reason[128];
	char message[320];
	char (*present)[VFPOOL_PCI_ADDR_MAX];
	size_t n_present, cap_present;
};

/* Appends "; <vf> <reason>" to why while it fits with room for the tail that counts the
 * rest; false once it does not. */
static bool append_use(char *why, size_t why_len, size_t *used, bool first, const char *vf,
		       const char *reason)
{
	static const size_t tail_room = sizeof("; and 65535 more");
	int k;

	if (*used + tail_room >= why_len)
		return false;
	k = snprintf(why + *used, why_len - *used, "%s%s %s", first ? ": " : "; ", vf, reason);
	if (k < 0 || *used + (size_t)k + tail_room >= why_len) {
		why[*used] = '\0';
		return false;
	}
	*used += (size_t)k;
	return true;
}

int numvfs_check_request(const struct host *host, uint32_t pf, unsigned n,
			 const struct numvfs_vf_use *uses, char *why, size_t why_len)
{
	const struct host_pf *p;
	unsigned existing = 0, in_use = 0, named = 0;
	const char *name;
	size_t used;
	int k;

	if (!host || pf >= host->n_pfs)
		return -EINVAL;
	p = &host->pfs[pf];
	name = p->netdev[0] ? p->netdev : p->pci_addr;
	if (n > p->total_vfs)
		return reason_err(-ERANGE, why, why_len,
				  "%s: %u VFs requested, the PF supports 0..%u", name, n,
				  p->total_vfs);
	for (size_t i = 0; i < host->n_vfs; i++) {
		if (host->vfs[i].pf != pf)
			continue;
		existing++;
		if (uses ? uses[i].why[0] != '\0' : host->vfs[i].bound_other)
			in_use++;
	}
	if (!in_use)
		return 0;
	if (!why || !why_len)
		return -EBUSY;
	k = snprintf(why, why_len, "%s: %u of %u VFs in use", name, in_use, existing);
	used = k < 0 ? 0 : (size_t)k < why_len ? (size_t)k : why_len - 1;
	for (size_t i = 0; i < host->n_vfs && named < in_use; i++) {
		const struct host_vf *vf = &host->vfs[i];
		char bound[64];
		const char *reason;

		if (vf->pf != pf)
			continue;
		if (uses) {
			reason = uses[i].why;
		} else if (vf->bound_other) {
			snprintf(bound, sizeof(bound), "bound to %s by another party", vf->driver);
			reason = bound;
		} else {
			continue;
		}
		if (!reason[0])
			continue;
		if (!append_use(why, why_len, &used, named == 0, vf->pci_addr, reason))
			break;
		named++;
	}
	if (named < in_use)
		snprintf(why + used, why_len - used, "%s and %u more", named ? ";" : ":",
			 in_use - named);
	return -EBUSY;
}

static void finish(struct numvfs_op *op);

static int present_add(struct numvfs_op *op, const char *addr)
{
	for (size_t i = 0; i < op->n_present; i++)
		if (strcmp(op->present[i], addr) == 0)
			return 0;
	if (array_reserve(op->present, op->cap_present, op->n_present + 1, 8) < 0)
		return -ENOMEM;
	snprintf(op->present[op->n_present++], VFPOOL_PCI_ADDR_MAX, "%s", addr);
	return 0;
}

static bool present_remove(struct numvfs_op *op, const char *addr)
{
	for (size_t i = 0; i < op->n_present; i++)
		if (strcmp(op->present[i], addr) == 0) {
			memmove(op->present[i], op->present[--op->n_present], VFPOOL_PCI_ADDR_MAX);
			return true;
		}
	return false;
}

int numvfs_op_new(const struct host *host, uint32_t pf, unsigned n, uint32_t timeout_ms,
		  struct numvfs_op **ret_op)
{
	struct numvfs_op *op;

	if (!host || pf >= host->n_pfs || n > NUMVFS_MAX || !ret_op)
		return -EINVAL;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	memcpy(op->pf, host->pfs[pf].pci_addr, sizeof(op->pf));
	op->timeout_ms = timeout_ms ? timeout_ms : NUMVFS_DEFAULT_TIMEOUT_MS;
	op->target = op->requested = n;
	op->last_known = host->pfs[pf].num_vfs;
	op->state = NUMVFS_WRITE_ZERO;
	for (size_t i = 0; i < host->n_vfs; i++)
		if (host->vfs[i].pf == pf && present_add(op, host->vfs[i].pci_addr) < 0) {
			numvfs_op_free(op);
			return -ENOMEM;
		}
	/* nothing to take down first: 0 to N writes only N, 0 to 0 writes nothing */
	if (op->last_known == 0 && op->n_present == 0) {
		if (n)
			op->state = NUMVFS_WRITE_N;
		else
			finish(op);
	}
	*ret_op = op;
	return 0;
}

void numvfs_op_free(struct numvfs_op *op)
{
	if (!op)
		return;
	free(op->present);
	free(op);
}

void numvfs_op_next_action(const struct numvfs_op *op, struct numvfs_action *ret)
{
	*ret = (struct numvfs_action){ .step = op->step, .timeout_ms = op->timeout_ms };
	switch (op->state) {
	case NUMVFS_WRITE_ZERO:
		ret->kind = NUMVFS_ACT_WRITE;
		ret->value = 0;
		break;
	case NUMVFS_WRITE_N:
		ret->kind = NUMVFS_ACT_WRITE;
		ret->value = op->target;
		break;
	case NUMVFS_WAIT_GONE:
	case NUMVFS_WAIT_VFS:
		ret->kind = NUMVFS_ACT_WAIT;
		break;
	case NUMVFS_DONE:
	case NUMVFS_FAILED:
		ret->kind = NUMVFS_ACT_FINISHED;
		ret->timeout_ms = 0;
		break;
	}
}

enum numvfs_state numvfs_op_state(const struct numvfs_op *op)
{
	return op->state;
}

bool numvfs_op_rolling_back(const struct numvfs_op *op)
{
	return op->rolling_back;
}

const char *numvfs_op_pf(const struct numvfs_op *op)
{
	return op->pf;
}

unsigned numvfs_op_target(const struct numvfs_op *op)
{
	return op->requested;
}

bool numvfs_op_restored(const struct numvfs_op *op)
{
	return op->restored;
}

static void enter(struct numvfs_op *op, enum numvfs_state state)
{
	op->state = state;
	op->step++;
}

static void finish(struct numvfs_op *op)
{
	if (!op->rolling_back) {
		enter(op, NUMVFS_DONE);
		snprintf(op->message, sizeof(op->message), "%s: sriov_numvfs=%u", op->pf,
			 op->target);
		return;
	}
	enter(op, NUMVFS_FAILED);
	op->restored = true;
	snprintf(op->message, sizeof(op->message),
		 "%s: writing sriov_numvfs=%u failed: %s; restored %u", op->pf, op->requested,
		 op->reason, op->last_known);
}

/* The present set decides whether a wait is already over, e.g. when no VF existed. */
static void settle(struct numvfs_op *op)
{
	if (op->state == NUMVFS_WAIT_GONE && op->n_present == 0) {
		if (op->target == 0)
			finish(op);
		else
			enter(op, NUMVFS_WRITE_N);
	} else if (op->state == NUMVFS_WAIT_VFS && op->n_present >= op->target) {
		finish(op);
	}
}

/* A failure: the first starts the write-back of the last known value; one during the
 * write-back ends the op. device_gone skips a write-back that cannot succeed. */
static void fail(struct numvfs_op *op, int error, const char *reason, bool device_gone)
{
	if (op->rolling_back) {
		enter(op, NUMVFS_FAILED);
		snprintf(op->message, sizeof(op->message),
			 "%s: writing sriov_numvfs=%u failed: %s; restoring %u also failed: %s",
			 op->pf, op->requested, op->reason, op->last_known, reason);
		return;
	}
	op->error = error;
	snprintf(op->reason, sizeof(op->reason), "%s", reason);
	if (device_gone) {
		enter(op, NUMVFS_FAILED);
		snprintf(op->message, sizeof(op->message),
			 "%s: writing sriov_numvfs=%u failed: %s; %u not restored: the PF is gone",
			 op->pf, op->requested, op->reason, op->last_known);
		return;
	}
	op->rolling_back = true;
	op->retried_busy = false;
	op->target = op->last_known;
	enter(op, NUMVFS_WRITE_ZERO);
}

int numvfs_op_write_done(struct numvfs_op *op, uint32_t step, long result)
{
	if (step != op->step)
		return -ESTALE;
	if (op->state != NUMVFS_WRITE_ZERO && op->state != NUMVFS_WRITE_N)
		return -EINVAL;
	if (result == -EBUSY && !op->retried_busy) {
		/* a driver still settling the previous change: once more, from 0 */
		op->retried_busy = true;
		enter(op, NUMVFS_WRITE_ZERO);
		return 0;
	}
	if (result < 0) {
		fail(op, (int)result, strerror((int)-result),
		     result == -ENODEV || result == -ENOENT || result == -ENXIO);
		return 0;
	}
	if (result == 0) {
		fail(op, -EIO, "short write", false);
		return 0;
	}
	enter(op, op->state == NUMVFS_WRITE_ZERO ? NUMVFS_WAIT_GONE : NUMVFS_WAIT_VFS);
	settle(op);
	return 0;
}

int numvfs_op_observe(struct numvfs_op *op, const struct host_change *c)
{
	bool finished = op->state == NUMVFS_DONE || op->state == NUMVFS_FAILED;
	int r = -ENOENT;

	if (!c || finished)
		return finished ? -EINVAL : -ENOENT;
	switch (c->kind) {
	case HOST_VF_ADDED:
		if (strcmp(c->pf_addr, op->pf) != 0)
			return -ENOENT;
		r = present_add(op, c->pci_addr);
		if (r < 0)
			return r;
		break;
	case HOST_VF_REMOVED:
	case HOST_PCI_REMOVED:
	case HOST_PF_REMOVED:
		if (strcmp(c->pci_addr, op->pf) == 0) {
			fail(op, -ENODEV, "the PF was removed", true);
			return 0;
		}
		if (!present_remove(op, c->pci_addr))
			return -ENOENT;
		break;
	default:
		return -ENOENT;
	}
	settle(op);
	return 0;
}

int numvfs_op_observe_host(struct numvfs_op *op, const struct host *host)
{
	bool found = false;

	if (op->state == NUMVFS_DONE || op->state == NUMVFS_FAILED)
		return -EINVAL;
	op->n_present = 0;
	for (size_t p = 0; p < host->n_pfs; p++) {
		if (strcmp(host->pfs[p].pci_addr, op->pf) != 0)
			continue;
		found = true;
		for (size_t i = 0; i < host->n_vfs; i++)
			if (host->vfs[i].pf == p && present_add(op, host->vfs[i].pci_addr) < 0)
				return -ENOMEM;
	}
	if (!found) {
		fail(op, -ENODEV, "the PF is gone", true);
		return 0;
	}
	settle(op);
	return 0;
}

int numvfs_op_timeout(struct numvfs_op *op, uint32_t step)
{
	char why[128];

	if (step != op->step)
		return -ESTALE;
	switch (op->state) {
	case NUMVFS_WRITE_ZERO:
	case NUMVFS_WRITE_N:
		snprintf(why, sizeof(why), "the write of %u did not complete within %u ms",
			 op->state == NUMVFS_WRITE_ZERO ? 0 : op->target, op->timeout_ms);
		break;
	case NUMVFS_WAIT_GONE:
		snprintf(why, sizeof(why), "%zu VFs still present %u ms after writing 0",
			 op->n_present, op->timeout_ms);
		break;
	case NUMVFS_WAIT_VFS:
		snprintf(why, sizeof(why), "%zu of %u VFs appeared within %u ms", op->n_present,
			 op->target, op->timeout_ms);
		break;
	default:
		return -EINVAL;
	}
	fail(op, -ETIMEDOUT, why, false);
	return 0;
}

int numvfs_op_result(const struct numvfs_op *op, const char **ret_message)
{
	if (op->state != NUMVFS_DONE && op->state != NUMVFS_FAILED)
		return -EINPROGRESS;
	if (ret_message)
		*ret_message = op->message;
	return op->state == NUMVFS_DONE ? 0 : op->error;
}
