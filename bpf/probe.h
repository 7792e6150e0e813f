/* SPDX-License-Identifier: MIT */
/*
 * The link-event probe: a non-blocking NETLINK_ROUTE socket subscribed to RTNLGRP_LINK,
 * RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE with the
 * linkfilter socket filter attached (mode "bpf"), so only link events about tracked VFs and
 * the devices stacked over them, address events of tracked VFs and main-table default route
 * events reach userspace (bpf/linkfilter.bpf.c). When the program cannot be loaded or
 * attached (no CAP_BPF, old kernel, or forced off) the probe runs in mode "fallback": the
 * socket gets every such event of the host and probe_pass_userspace() makes the same decision
 * in C.
 *
 * The probe only delivers bytes; decoding and deciding is core/probe/link_watch. Dump requests
 * (resync) belong on a different socket: this one is for multicast events only.
 */
#ifndef VFPOOL_BPF_PROBE_H
#define VFPOOL_BPF_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct nlmsghdr;
struct probe;

struct probe_opts {
	bool force_fallback; /* do not try to load the BPF program */
	int rcvbuf;          /* SO_RCVBUF(FORCE) bytes; 0: the kernel default */
};

/* Opens the event socket and, unless forced off, loads and attaches the filter. A filter that
 * fails to load is not an error: the probe falls back and records why. Negative errno only
 * when the socket itself cannot be set up. */
int probe_open(const struct probe_opts *opts, struct probe **ret);
void probe_close(struct probe *p);

/* The socket to receive on (non-blocking; one event per datagram). */
int probe_fd(const struct probe *p);

/* Discards every queued event. After recv() failed with ENOBUFS some events are lost and the
 * queued ones describe a past that a resync will supersede: drain, then resync, so no stale
 * event is replayed over the fresh dump. Returns the number of messages discarded. */
int probe_drain(struct probe *p);

/* "bpf" or "fallback". */
const char *probe_mode(const struct probe *p);
/* Why the probe runs in fallback mode ("" in bpf mode), e.g.
 * "loading BPF socket filter linkfilter: Operation not permitted". */
const char *probe_fallback_reason(const struct probe *p);

/* Starts or stops passing events about a VF netdev: its links, its addresses, and links
 * stacked on it. slot must not be LINKFILTER_RELATED (-ERANGE). */
int probe_track(struct probe *p, int ifindex, uint32_t slot);
int probe_untrack(struct probe *p, int ifindex);
/* Starts or stops passing link events about a device stacked over a VF (its master, a VLAN
 * on that master...) and about devices stacked on it. A tracked VF stays as it is (0).
 * probe_unrelate: -ENOENT when the device is not related. */
int probe_relate(struct probe *p, int ifindex);
int probe_unrelate(struct probe *p, int ifindex);

/* Messages the filter passed and dropped since open: read from the BPF counters map in bpf
 * mode, counted by probe_pass_userspace() in fallback mode. */
int probe_counters(const struct probe *p, uint64_t *ret_passed, uint64_t *ret_dropped);

/* The filter's decision, in C, the BPF program's (bpf/linkfilter.bpf.c): an RTM_NEWLINK/
 * RTM_DELLINK (AF_UNSPEC) about a tracked or related ifindex, or whose IFLA_LINK names one or
 * IFLA_MASTER a VF; an address message of a VF; a main-table default route message. Counts
 * like the BPF program. */
bool probe_pass_userspace(struct probe *p, const struct nlmsghdr *nlh);

/* probe_pass_userspace() shaped as a link_watch_filter, for link_watch_set_filter() in
 * fallback mode: link_watch_set_filter(lw, probe_filter, p). */
bool probe_filter(void *probe, const struct nlmsghdr *nlh);

#endif
