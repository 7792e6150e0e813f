/* SPDX-License-Identifier: MIT */
/*
 * The link-event probe: a non-blocking NETLINK_ROUTE socket subscribed to RTNLGRP_LINK with
 * the linkfilter socket filter attached (mode "bpf"), so only events about tracked VFs and
 * the devices stacked on them reach userspace. When the program cannot be loaded or attached
 * (no CAP_BPF, old kernel, or forced off) the probe runs in mode "fallback": the socket gets
 * every link event and probe_pass_userspace() makes the same decision in C.
 *
 * The probe only delivers bytes; decoding and deciding is core/link_watch. Dump requests
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

/* Starts or stops passing events about a VF netdev (and devices on top of it). */
int probe_track(struct probe *p, int ifindex, uint32_t slot);
int probe_untrack(struct probe *p, int ifindex);

/* Messages the filter passed and dropped since open: read from the BPF counters map in bpf
 * mode, counted by probe_pass_userspace() in fallback mode. */
int probe_counters(const struct probe *p, uint64_t *ret_passed, uint64_t *ret_dropped);

/* The filter's decision, in C: true when nlh is an RTM_NEWLINK/RTM_DELLINK (AF_UNSPEC) about
 * a tracked ifindex or with IFLA_LINK/IFLA_MASTER naming one. Counts like the BPF program. */
bool probe_pass_userspace(struct probe *p, const struct nlmsghdr *nlh);

/* probe_pass_userspace() shaped as a link_watch_filter, for link_watch_set_filter() in
 * fallback mode: link_watch_set_filter(lw, probe_filter, p). */
bool probe_filter(void *probe, const struct nlmsghdr *nlh);

#endif
