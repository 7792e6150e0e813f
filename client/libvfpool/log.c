/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "client/libvfpool/internal.h"

struct log_sink {
	vfpool_log_fn fn;
	void *userdata;
};

static _Atomic(struct log_sink *) sink; /* NULL: silent */
static struct log_sink sinks[2];
static _Atomic unsigned sink_next;

VFPOOL_API void vfpool_set_log_fn(vfpool_log_fn fn, void *userdata)
{
	/* two slots, alternated: a logger reading the old one while it is replaced still
	 * sees a consistent pair; callers set the callback rarely (at start-up) */
	unsigned i = atomic_fetch_add_explicit(&sink_next, 1, memory_order_relaxed) & 1;

	if (!fn) {
		atomic_store_explicit(&sink, NULL, memory_order_release);
		return;
	}
	sinks[i].fn = fn;
	sinks[i].userdata = userdata;
	/* release: pairs with the acquire load in vfpool_log, publishing fn and userdata */
	atomic_store_explicit(&sink, &sinks[i], memory_order_release);
}

void vfpool_log(enum vfpool_log_level level, const char *fmt, ...)
{
	/* acquire: pairs with the release store in vfpool_set_log_fn */
	struct log_sink *s = atomic_load_explicit(&sink, memory_order_acquire);
	char msg[256];
	va_list ap;

	if (!s)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->fn(level, msg, s->userdata);
}

/* What an errno means for the connection or the library itself. Refusals of a request (no
 * VF free, no such lease, a stale generation) carry the daemon's reason, which names the
 * object; an errno alone must not pretend to know which object it was about. */
VFPOOL_API const char *vfpool_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case -ECONNREFUSED: return "no vfpoold listening";
	case -ECONNRESET: return "the daemon went away";
	case -ETIMEDOUT: return "the daemon did not answer in time";
	case -EPROTO: return "protocol violation (not a vfpoold of this version)";
	case -EUSERS: return "the daemon serves its maximum number of clients";
	case -E2BIG: return "argument too large for this libvfpool (a newer header's field, "
			    "or a chain or command past its limit)";
	case -EOWNERDEAD: return "vfpoold is not running (the snapshot holds its last state)";
	default: return err < 0 ? strerror(-err) : "unknown";
	}
}

static const char *const status_names[] = {
	[VFPOOL_VF_STATUS_FREE] = "free",
	[VFPOOL_VF_STATUS_LEASED] = "leased",
	[VFPOOL_VF_STATUS_HOST_BUSY] = "host-busy",
	[VFPOOL_VF_STATUS_IOMMU_SHARED] = "iommu-shared",
	[VFPOOL_VF_STATUS_BOUND_OTHER] = "bound-other",
	[VFPOOL_VF_STATUS_ABSENT] = "absent",
	[VFPOOL_VF_STATUS_DIRTY] = "dirty",
};

VFPOOL_API const char *vfpool_vf_status_name(enum vfpool_vf_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}
