/* SPDX-License-Identifier: MIT */
/*
 * One vfio-pci bind or unbind as a state machine the loop owner drives. Each step that
 * depends on the VF's driver is asked about the world first (VFIO_ACT_LOOK), so the machine
 * decides from what the owner read which steps are pointless (nothing to unbind, vfio-pci
 * bound already) and whether the kernel did what the last write asked. The owner's record
 * is the only memory across a crash; every step can be repeated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/vfio/vfio_bind.h"

__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void init(struct vfio_bind *b, enum vfio_bind_kind kind, const char *pci,
		 const char *orig, enum vfio_bind_state state)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->state = state;
	b->iommu_group = -1;
	say(b->pci, sizeof(b->pci), "%s", pci);
	if (orig) {
		say(b->orig, sizeof(b->orig), "%s", orig);
		b->recorded = true;
	}
}

void vfio_bind_start(struct vfio_bind *b, const char *pci)
{
	init(b, VFIO_BIND, pci, NULL, VFIO_S_LOOK);
}

void vfio_bind_resume(struct vfio_bind *b, const char *pci, const char *orig)
{
	init(b, VFIO_BIND, pci, orig, VFIO_S_LOOK);
	b->recovery = true;
}

void vfio_unbind_start(struct vfio_bind *b, const char *pci, const char *orig)
{
	init(b, VFIO_UNBIND, pci, orig, VFIO_S_UNBIND_VFIO);
}

/* Steps decided by what the VF's driver is now */
static bool looks(enum vfio_bind_state s)
{
	switch (s) {
	case VFIO_S_LOOK:
	case VFIO_S_UNBIND_CURRENT:
	case VFIO_S_PROBE:
	case VFIO_S_CHECK_BOUND:
	case VFIO_S_UNBIND_VFIO:
	case VFIO_S_REPROBE:
	case VFIO_S_CHECK_RESTORED:
		return true;
	default:
		return false;
	}
}

void vfio_bind_next_action(const struct vfio_bind *b, struct vfio_action *ret)
{
	*ret = (struct vfio_action){ .step = b->step };
	if (b->state == VFIO_S_DONE) {
		ret->kind = VFIO_ACT_FINISHED;
		return;
	}
	if (looks(b->state) && !b->observed) {
		ret->kind = VFIO_ACT_LOOK;
		return;
	}
	ret->kind = VFIO_ACT_WRITE;
	switch (b->state) {
	case VFIO_S_RECORD:
		ret->kind = VFIO_ACT_RECORD;
		say(ret->driver, sizeof(ret->driver), "%s", b->orig);
		break;
	case VFIO_S_FORGET:
		ret->kind = VFIO_ACT_FORGET;
		break;
	case VFIO_S_SET_OVERRIDE:
		ret->file = VFIO_FILE_OVERRIDE;
		say(ret->value, sizeof(ret->value), "%s", VFIO_DRIVER);
		break;
	case VFIO_S_CLEAR_OVERRIDE:
		ret->file = VFIO_FILE_OVERRIDE;
		break;
	case VFIO_S_UNBIND_CURRENT:
	case VFIO_S_UNBIND_VFIO:
		ret->file = VFIO_FILE_UNBIND;
		say(ret->driver, sizeof(ret->driver), "%s",
		    b->state == VFIO_S_UNBIND_VFIO ? VFIO_DRIVER : b->world.driver);
		say(ret->value, sizeof(ret->value), "%s", b->pci);
		break;
	case VFIO_S_PROBE:
	case VFIO_S_REPROBE:
		ret->file = VFIO_FILE_PROBE;
		say(ret->value, sizeof(ret->value), "%s", b->pci);
		break;
	default:
		/* a look-only step that was observed moved on at once: not reached */
		ret->kind = VFIO_ACT_LOOK;
		break;
	}
}

enum vfio_bind_state vfio_bind_state(const struct vfio_bind *b)
{
	return b->state;
}

bool vfio_bind_rolling_back(const struct vfio_bind *b)
{
	return b->rolling_back;
}

int vfio_bind_group(const struct vfio_bind *b)
{
	return b->iommu_group;
}

const char *vfio_file_name(enum vfio_file f)
{
	switch (f) {
	case VFIO_FILE_OVERRIDE:
		return "driver_override";
	case VFIO_FILE_UNBIND:
		return "unbind";
	case VFIO_FILE_PROBE:
		return "drivers_probe";
	}
	return "?";
}

static void enter(struct vfio_bind *b, enum vfio_bind_state state)
{
	b->state = state;
	b->step++;
	b->observed = false;
}

static void finish(struct vfio_bind *b, enum vfio_outcome outcome)
{
	b->outcome = outcome;
	enter(b, VFIO_S_DONE);
}

/* The end of the way back: the record goes, when there is one */
static void restored(struct vfio_bind *b)
{
	if (b->recorded)
		enter(b, VFIO_S_FORGET);
	else
		finish(b, b->rolling_back ? VFIO_FAILED : VFIO_OK);
}

/* A failure: the first one is the reason. A bind that changed nothing is refused; one that
 * changed something gives the VF back; a failure on the way back leaves the VF dirty. */
static void fail(struct vfio_bind *b, int error, const char *why)
{
	if (!b->error) {
		b->error = error;
		say(b->why, sizeof(b->why), "%s", why);
	}
	if (b->kind == VFIO_UNBIND || b->rolling_back) {
		finish(b, VFIO_DIRTY);
		return;
	}
	if (b->state == VFIO_S_LOOK || b->state == VFIO_S_RECORD) {
		finish(b, VFIO_REFUSED);
		return;
	}
	b->rolling_back = true;
	enter(b, VFIO_S_UNBIND_VFIO);
}

static const char *driver_or_none(const char *d)
{
	return d[0] ? d : "no driver";
}

/* The first look of a bind: may the VF be bound at all? */
static void look_first(struct vfio_bind *b, const struct vfio_world *w)
{
	char why[VFIO_WHY_MAX];

	b->iommu_group = w->iommu_group;
	if (w->iommu_group < 0) {
		say(why, sizeof(why), "%s: no IOMMU group: vfio-pci needs the IOMMU on", b->pci);
		fail(b, -ENODEV, why);
		return;
	}
	if (w->group_devices > 1) {
		say(why, sizeof(why),
		    "%s: IOMMU group %d shared with %s%s: never bound to vfio-pci", b->pci,
		    w->iommu_group, w->group_other[0] ? w->group_other : "another device",
		    w->group_devices > 2 ? " and others" : "");
		fail(b, -EBUSY, why);
		return;
	}
	if (b->recovery) {
		enter(b, VFIO_S_SET_OVERRIDE);
		return;
	}
	if (strcmp(w->driver, VFIO_DRIVER) == 0) {
		say(why, sizeof(why), "%s: bound to vfio-pci by another party", b->pci);
		fail(b, -EBUSY, why);
		return;
	}
	say(b->orig, sizeof(b->orig), "%s", w->driver);
	enter(b, VFIO_S_RECORD);
}

int vfio_bind_observe(struct vfio_bind *b, uint32_t step, const struct vfio_world *w)
{
	char why[VFIO_WHY_MAX];
	bool on_vfio = strcmp(w->driver, VFIO_DRIVER) == 0;

	if (step != b->step)
		return -ESTALE;
	if (!looks(b->state) || b->observed)
		return -EINVAL;
	b->world = *w;
	if (!w->present) {
		say(why, sizeof(why), "%s: the device is gone", b->pci);
		if (b->kind == VFIO_UNBIND || b->rolling_back) {
			/* its driver_override went with it: nothing is left to give back */
			restored(b);
			return 0;
		}
		fail(b, -ENODEV, why);
		return 0;
	}
	switch (b->state) {
	case VFIO_S_LOOK:
		look_first(b, w);
		return 0;
	case VFIO_S_UNBIND_CURRENT:
		if (!w->driver[0] || on_vfio) {
			enter(b, VFIO_S_PROBE);
			return vfio_bind_observe(b, b->step, w);
		}
		break;
	case VFIO_S_PROBE:
		if (on_vfio) {
			enter(b, VFIO_S_CHECK_BOUND);
			return vfio_bind_observe(b, b->step, w);
		}
		break;
	case VFIO_S_CHECK_BOUND:
		if (on_vfio) {
			finish(b, VFIO_OK);
			return 0;
		}
		say(why, sizeof(why), "%s: drivers_probe left it with %s, not vfio-pci%s", b->pci,
		    driver_or_none(w->driver), w->driver[0] ? "" : " (is vfio-pci loaded?)");
		fail(b, -ENXIO, why);
		return 0;
	case VFIO_S_UNBIND_VFIO:
		if (!on_vfio) {
			enter(b, VFIO_S_CLEAR_OVERRIDE);
			return 0;
		}
		break;
	case VFIO_S_REPROBE:
		if (!b->orig[0] || strcmp(w->driver, b->orig) == 0) {
			enter(b, VFIO_S_CHECK_RESTORED);
			return vfio_bind_observe(b, b->step, w);
		}
		break;
	case VFIO_S_CHECK_RESTORED:
		/* a VF that had no driver gets whatever the kernel's own matching picks, as a
		 * new VF would (an NVMe VF's nvme comes and gives up by itself) */
		if (strcmp(w->driver, b->orig) == 0 || (!b->orig[0] && !on_vfio)) {
			restored(b);
			return 0;
		}
		say(why, sizeof(why), "%s: left with %s, not its driver %s", b->pci,
		    driver_or_none(w->driver), driver_or_none(b->orig));
		fail(b, -ENXIO, why);
		return 0;
	default:
		return -EINVAL;
	}
	b->observed = true;
	return 0;
}

int vfio_bind_recorded(struct vfio_bind *b, uint32_t step, int error, const char *why)
{
	if (step != b->step)
		return -ESTALE;
	if (b->state == VFIO_S_FORGET) {
		/* the VF is back; a record left over only makes a restart look again */
		b->recorded = false;
		finish(b, b->rolling_back ? VFIO_FAILED : VFIO_OK);
		return 0;
	}
	if (b->state != VFIO_S_RECORD)
		return -EINVAL;
	if (error < 0) {
		fail(b, error, why ? why : "");
		return 0;
	}
	b->recorded = true;
	enter(b, VFIO_S_SET_OVERRIDE);
	return 0;
}

int vfio_bind_written(struct vfio_bind *b, uint32_t step, long result)
{
	struct vfio_action a;
	char why[VFIO_WHY_MAX];

	if (step != b->step)
		return -ESTALE;
	vfio_bind_next_action(b, &a);
	if (a.kind != VFIO_ACT_WRITE)
		return -EINVAL;
	/* unbind: -ENODEV when the driver had let go already, which is what was asked */
	if (result < 0 && !(a.file == VFIO_FILE_UNBIND && result == -ENODEV)) {
		say(why, sizeof(why), "%s: writing %s%s%s: %s", b->pci, a.file == VFIO_FILE_UNBIND ?
		    a.driver : "", a.file == VFIO_FILE_UNBIND ? "/" : "", vfio_file_name(a.file),
		    strerror((int)-result));
		fail(b, (int)result, why);
		return 0;
	}
	if (result == 0 && a.value[0]) {
		say(why, sizeof(why), "%s: writing %s: short write", b->pci,
		    vfio_file_name(a.file));
		fail(b, -EIO, why);
		return 0;
	}
	switch (b->state) {
	case VFIO_S_SET_OVERRIDE:
		enter(b, VFIO_S_UNBIND_CURRENT);
		break;
	case VFIO_S_UNBIND_CURRENT:
		enter(b, VFIO_S_PROBE);
		break;
	case VFIO_S_PROBE:
		enter(b, VFIO_S_CHECK_BOUND);
		break;
	case VFIO_S_UNBIND_VFIO:
		enter(b, VFIO_S_CLEAR_OVERRIDE);
		break;
	case VFIO_S_CLEAR_OVERRIDE:
		enter(b, VFIO_S_REPROBE);
		break;
	case VFIO_S_REPROBE:
		enter(b, VFIO_S_CHECK_RESTORED);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int vfio_bind_result(const struct vfio_bind *b, enum vfio_outcome *ret_outcome, int *ret_error,
		     const char **ret_why)
{
	if (b->state != VFIO_S_DONE)
		return -EINPROGRESS;
	if (ret_outcome)
		*ret_outcome = b->outcome;
	if (ret_error)
		*ret_error = b->outcome == VFIO_OK ? 0 : b->error;
	if (ret_why)
		*ret_why = b->outcome == VFIO_OK ? "" : b->why;
	return 0;
}
