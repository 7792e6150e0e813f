/* SPDX-License-Identifier: MIT */
/*
 * Binding a VF to vfio-pci for its lease, and giving it back to its own driver, as a pure
 * state machine its owner drives (core/vfio/vfio_owner.c: the sysfs reads, the record, the
 * writes on the daemon's io_uring). No I/O here: the owner reads the world when asked,
 * issues the action, and feeds back what came of it.
 *
 * A bind, the kernel's way (Documentation/driver-api/vfio.rst, "driver_override"):
 *   read the VF's driver and IOMMU group; refuse a VF whose group holds another device
 *   (vfio hands a guest the whole group) or that vfio-pci already drives (someone else's);
 *   record the original driver (the owner makes it durable before anything changes, so a
 *   restart after a crash at any later step knows what to give back); write "vfio-pci" to
 *   driver_override; unbind the current driver; write the address to drivers_probe; check
 *   that vfio-pci took it.
 * An unbind (a release, a failed bind's rollback, a restart's recovery): unbind vfio-pci,
 *   clear driver_override, reprobe (the original driver takes it again), check that it did,
 *   forget the record. A VF is never handed out again before that check passed: a failure
 *   leaves it dirty (quarantined).
 * Every step the owner acts on is preceded by a fresh look at the world, so a step that is
 * already done (a restart's recovery, a driver the kernel bound by itself) is skipped and
 * each step is safe to repeat.
 */
#ifndef VFPOOL_CORE_VFIO_BIND_H
#define VFPOOL_CORE_VFIO_BIND_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/layout.h"

#define VFIO_DRIVER "vfio-pci"
#define VFIO_WHY_MAX 160
#define VFIO_DRIVER_NAME_MAX 32 /* a driver's name in /sys/bus/pci/drivers, NUL included */

enum vfio_bind_kind {
	VFIO_BIND,   /* to vfio-pci, for a lease */
	VFIO_UNBIND, /* back to the original driver */
};

enum vfio_bind_state {
	VFIO_S_LOOK,           /* the VF's driver and group, before anything changes */
	VFIO_S_RECORD,         /* the original driver made durable */
	VFIO_S_SET_OVERRIDE,   /* "vfio-pci" to driver_override */
	VFIO_S_UNBIND_CURRENT, /* the address to drivers/<current>/unbind */
	VFIO_S_PROBE,          /* the address to drivers_probe */
	VFIO_S_CHECK_BOUND,    /* vfio-pci drives it */
	VFIO_S_UNBIND_VFIO,    /* the address to drivers/vfio-pci/unbind */
	VFIO_S_CLEAR_OVERRIDE, /* "\n" to driver_override */
	VFIO_S_REPROBE,        /* the address to drivers_probe */
	VFIO_S_CHECK_RESTORED, /* the original driver drives it (one that had none: not vfio-pci) */
	VFIO_S_FORGET,         /* the record removed */
	VFIO_S_DONE,           /* see vfio_bind_result() */
};

/* The sysfs files a step writes. */
enum vfio_file {
	VFIO_FILE_OVERRIDE, /* <dev>/driver_override */
	VFIO_FILE_UNBIND,   /* /sys/bus/pci/drivers/<action.driver>/unbind */
	VFIO_FILE_PROBE,    /* /sys/bus/pci/drivers_probe */
};

enum vfio_action_kind {
	VFIO_ACT_LOOK,     /* read the world, then vfio_bind_observe() */
	VFIO_ACT_RECORD,   /* make action.driver durable as the VF's original driver;
			    * vfio_bind_recorded() */
	VFIO_ACT_WRITE,    /* write action.value to action.file; vfio_bind_written() */
	VFIO_ACT_FORGET,   /* remove the record; vfio_bind_recorded() */
	VFIO_ACT_FINISHED, /* vfio_bind_result() */
};

struct vfio_action {
	enum vfio_action_kind kind;
	uint32_t step; /* changes on every transition: inputs for an older step are stale */
	enum vfio_file file;
	char driver[VFIO_DRIVER_NAME_MAX]; /* RECORD: the original; WRITE UNBIND: whose */
	char value[VFPOOL_PCI_ADDR_MAX];   /* WRITE: what, without a newline ("" clears) */
};

/* What the owner read for a LOOK. */
struct vfio_world {
	bool present;                      /* the device exists */
	char driver[VFIO_DRIVER_NAME_MAX]; /* its driver, "" when none */
	int iommu_group;                   /* -1: none (no IOMMU) */
	unsigned group_devices;            /* devices in that group, the VF included */
	char group_other[VFPOOL_PCI_ADDR_MAX]; /* one of the others, for the message */
};

enum vfio_outcome {
	VFIO_OK,      /* bound (a bind) or given back (an unbind) */
	VFIO_REFUSED, /* a bind that changed nothing: the VF is as it was */
	VFIO_FAILED,  /* a bind that failed and was rolled back: the VF is as it was */
	VFIO_DIRTY,   /* not given back to its driver: the VF is to be quarantined */
};

/* The owner embeds it; everything is read through the functions below. */
struct vfio_bind {
	enum vfio_bind_kind kind;
	enum vfio_bind_state state;
	uint32_t step;
	bool observed;      /* the world was read for this step */
	bool rolling_back;  /* a bind that failed, now giving the VF back */
	bool recorded;      /* the record exists: an unbind ends by removing it */
	bool recovery;      /* a restart's: the original driver came from the record */
	struct vfio_world world;
	char pci[VFPOOL_PCI_ADDR_MAX];
	char orig[VFIO_DRIVER_NAME_MAX]; /* the driver to give it back to, "" when none */
	int iommu_group;
	enum vfio_outcome outcome;
	int error; /* the first failure, negative errno */
	char why[VFIO_WHY_MAX];
};

/* A bind of the VF at pci. */
void vfio_bind_start(struct vfio_bind *b, const char *pci);
/* A restart's bind of a VF recorded with its original driver orig: finishes what a crash
 * interrupted (each step done already is skipped). */
void vfio_bind_resume(struct vfio_bind *b, const char *pci, const char *orig);
/* Gives the VF back to orig (its record's): a release, or a restart's rollback. */
void vfio_unbind_start(struct vfio_bind *b, const char *pci, const char *orig);

/* Pure: the same action until an input is accepted. */
void vfio_bind_next_action(const struct vfio_bind *b, struct vfio_action *ret_action);
enum vfio_bind_state vfio_bind_state(const struct vfio_bind *b);
bool vfio_bind_rolling_back(const struct vfio_bind *b);
/* The VF's IOMMU group as the bind saw it (-1 before, or none). */
int vfio_bind_group(const struct vfio_bind *b);

/* Inputs. Each returns 0 when it was taken, -ESTALE for an input of an earlier step,
 * -EINVAL when no such input is awaited. */
int vfio_bind_observe(struct vfio_bind *b, uint32_t step, const struct vfio_world *w);
/* RECORD, FORGET: 0, or the negative errno the owner met (why names the file). */
int vfio_bind_recorded(struct vfio_bind *b, uint32_t step, int error, const char *why);
/* WRITE: what write(2) returned (bytes, or -errno). */
int vfio_bind_written(struct vfio_bind *b, uint32_t step, long result);

/* After FINISHED: the outcome; *ret_error (negative errno) and *ret_why the first failure,
 * when there was one. -EINPROGRESS before. */
int vfio_bind_result(const struct vfio_bind *b, enum vfio_outcome *ret_outcome, int *ret_error,
		     const char **ret_why);

/* The name of the file a WRITE action writes, for messages ("driver_override"). */
const char *vfio_file_name(enum vfio_file f);

#endif
