/* SPDX-License-Identifier: MIT */
/*
 * Decides, from rtnetlink link messages, whether each tracked VF netdev is host-busy.
 *
 * A VF is host-busy while a macvtap/macvlan or VLAN device sits on it (IFLA_LINK = the VF)
 * or while it is enslaved to a bridge (its IFLA_MASTER is a bridge). Any other upper device
 * (a bond, a team, a veth peer, an ipvlan) changes nothing. A VF may carry several such
 * holders at once; it stays busy until the last one goes.
 *
 * Independent of how the bytes arrive: link_watch_feed() takes what recv() returned on the
 * probe socket (bpf or fallback mode, io_uring or not), link_watch_resync() rebuilds the whole
 * picture from a dump (at start-up, and after ENOBUFS, when events were lost). Messages are
 * decoded with libnl-route. Not thread-safe: one owner, typically the daemon's event loop.
 */
#ifndef VFPOOL_CORE_LINK_WATCH_H
#define VFPOOL_CORE_LINK_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

struct link_watch;
struct nl_sock;
struct nlmsghdr;

#define LINK_WATCH_REASON_MAX VFPOOL_REASON_MAX

/* Called when a VF's busy state changes, and while busy when the reason changes (the holder
 * it names went away but another remains). reason is "" when busy is false, else e.g.
 * "macvtap0 (macvtap) on top", "enslaved to bridge br0", "vlan eth0.100 on top". */
typedef void (*link_watch_cb)(void *userdata, uint32_t slot, bool busy, const char *reason);

/* Decides whether link_watch_feed() looks at a message at all (fallback mode: the probe's
 * userspace filter). Returning false skips the message. */
typedef bool (*link_watch_filter)(void *ctx, const struct nlmsghdr *nlh);

struct link_watch_stats {
	uint64_t fed;           /* link messages link_watch_feed() was given */
	uint64_t filtered;      /* of those, skipped by the filter */
	uint64_t decoded;       /* decoded with libnl and looked at */
	uint64_t decode_errors; /* libnl could not decode */
	uint64_t transitions;   /* callbacks made */
	uint64_t resyncs;
};

int link_watch_new(struct link_watch **ret, link_watch_cb cb, void *userdata);
void link_watch_free(struct link_watch *lw);

/* NULL filter: look at every message. */
void link_watch_set_filter(struct link_watch *lw, link_watch_filter filter, void *ctx);

/* Starts watching a VF netdev. Its state starts free; call link_watch_resync() to learn what
 * is already on it. -EEXIST when the ifindex is tracked already. */
int link_watch_track_vf(struct link_watch *lw, int ifindex, uint32_t slot);
/* Stops watching; no callback. -ENOENT when not tracked. */
int link_watch_untrack_vf(struct link_watch *lw, int ifindex);

/* Processes a buffer of netlink messages (one recv()'s worth). Messages that are not link
 * messages, or that libnl cannot decode, are skipped (counted in the stats). 0, or -EBADMSG
 * when the buffer is not a sequence of netlink messages. */
int link_watch_feed(struct link_watch *lw, const void *buf, size_t len);

/* Rebuilds the state from a full RTM_GETLINK dump made on dump_sock (NULL: a private socket
 * in the caller's network namespace) and reports only the VFs whose state really changed.
 * dump_sock must not be the probe's event socket. */
int link_watch_resync(struct link_watch *lw, struct nl_sock *dump_sock);

/* The current decision for one VF. -ENOENT when not tracked. reason may be NULL. */
int link_watch_vf_state(const struct link_watch *lw, int ifindex, bool *ret_busy,
			char reason[LINK_WATCH_REASON_MAX]);

void link_watch_get_stats(const struct link_watch *lw, struct link_watch_stats *ret_stats);

#endif
