/* SPDX-License-Identifier: MIT */
/*
 * Decides, from rtnetlink link, address and route messages, how the host uses each tracked VF
 * netdev (the VFPOOL_HOST_USE_* bits) and whether that makes it host-busy:
 *
 *   macvtap/macvlan   a macvtap or macvlan device on it (its IFLA_LINK is the VF)
 *   vlan              a VLAN device on it
 *   bridge_port       enslaved (IFLA_MASTER) to a bridge or an Open vSwitch datapath
 *   bond_member       enslaved to a bond or a team
 *   address           a unicast address on it; IPv6 link-local (fe80::/10) does not count:
 *                     every interface that is up has one
 *   default_route     it holds an IPv4 or IPv6 default route of the main table, or it is
 *                     under the device that does (through VLAN/macvlan/ipvlan IFLA_LINK and
 *                     IFLA_MASTER steps: a VLAN on a bond of the VF, a bridge over it)
 *   up                administratively up and none of the above: busy only when configured
 *                     so (LXD's rule, vfpoold --busy-when-up), otherwise just reported
 *
 * A master's kind (IFLA_INFO_KIND: bond, team, bridge, openvswitch) comes from link_watch's own
 * table of devices, which holds every stacking and master device it has seen (the last dump
 * and the messages since); a master it has not seen yet is taken at the kind the enslaved
 * device's own message states (IFLA_INFO_SLAVE_KIND, filled by the kernel from the master's
 * link ops). Never by name. Other masters (vrf, ...) and other devices on a VF (ipvlan, a veth
 * peer) make it no busier.
 *
 * link_watch keeps the set of devices stacked over the tracked VFs (their "related" devices:
 * the VFs' masters, devices on them, their masters, ...) and reports it through
 * link_watch_related_cb, so the probe's filter lets their messages through: a VLAN created
 * on a bond of a VF is seen. A device that joins the set as a master may have had devices on
 * it already, whose messages the filter dropped: link_watch_resync_due() then asks the owner
 * for a resync.
 *
 * Independent of how the bytes arrive: link_watch_feed() takes what recv() returned on the
 * probe socket (bpf or fallback mode), link_watch_resync() rebuilds the whole picture from
 * dumps of links, addresses and main-table routes (at start-up, and after ENOBUFS, when
 * events were lost). Messages are decoded with libnl-route. Not thread-safe: one owner,
 * typically the daemon's event loop.
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

/* link_watch's decision for one VF. */
struct link_watch_verdict {
	bool busy;
	uint32_t uses;      /* VFPOOL_HOST_USE_*, every one that applies (UP only alone) */
	const char *reason; /* "" when uses is 0; else the holder that matters most: "holds the
			     * default route" first, then the oldest ("mvt0 (macvtap) on top",
			     * "vlan eth0.100 on top", "enslaved to bridge br0", "bond member of
			     * bond0", "address 192.0.2.1 configured"), "up on the host, not
			     * leased" last */
};

/* Called when a VF's verdict changes: busy, uses or reason. */
typedef void (*link_watch_cb)(void *userdata, uint32_t slot, const struct link_watch_verdict *v);

/* A device joined (related true) or left the devices stacked over the tracked VFs. */
typedef void (*link_watch_related_cb)(void *userdata, int ifindex, bool related);

/* Decides whether link_watch_feed() looks at a message at all (fallback mode: the probe's
 * userspace filter). Returning false skips the message. */
typedef bool (*link_watch_filter)(void *ctx, const struct nlmsghdr *nlh);

struct link_watch_stats {
	uint64_t fed;           /* link, address and route messages link_watch_feed() was given */
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
void link_watch_set_related_cb(struct link_watch *lw, link_watch_related_cb cb, void *userdata);
/* An administratively up VF with nothing else on it is busy (LXD's rule); default: not busy,
 * only reported. Takes effect at the next message or resync. */
void link_watch_set_busy_when_up(struct link_watch *lw, bool busy_when_up);

/* Starts watching a VF netdev. Its state starts free; call link_watch_resync() to learn what
 * is already on it. -EEXIST when the ifindex is tracked already. */
int link_watch_track_vf(struct link_watch *lw, int ifindex, uint32_t slot);
/* Stops watching; no verdict callback (the related set may shrink). -ENOENT when not
 * tracked. */
int link_watch_untrack_vf(struct link_watch *lw, int ifindex);

/* Processes a buffer of netlink messages (one recv()'s worth). Messages that are not link,
 * address or route messages, or that libnl cannot decode, are skipped (counted in the
 * stats). 0, or -EBADMSG when the buffer is not a sequence of netlink messages. */
int link_watch_feed(struct link_watch *lw, const void *buf, size_t len);

/* True when a device joined the related set as a master since the last resync: devices
 * stacked on it before it did went unseen; a resync finds them. */
bool link_watch_resync_due(const struct link_watch *lw);

/* Rebuilds the state from dumps of links, addresses and main-table routes made on dump_sock
 * (NULL: a private socket in the caller's network namespace) and reports only the VFs whose
 * verdict really changed. dump_sock must not be the probe's event socket. */
int link_watch_resync(struct link_watch *lw, struct nl_sock *dump_sock);

/* The current verdict for one VF (as last reported). -ENOENT when not tracked. Any output
 * may be NULL. */
int link_watch_vf_state(const struct link_watch *lw, int ifindex, bool *ret_busy,
			uint32_t *ret_uses, char reason[LINK_WATCH_REASON_MAX]);

void link_watch_get_stats(const struct link_watch *lw, struct link_watch_stats *ret_stats);

#endif
