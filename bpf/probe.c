/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/linkfilter.h"
#include "bpf/linkfilter.skel.h"
#include "bpf/probe.h"
#include "bpf/ifindex_map.h"

#define REASON_MAX 256

struct probe {
	int fd;
	struct linkfilter_bpf *skel; /* NULL in fallback mode */
	struct ifindex_map tracked;  /* mirror of the BPF map; the filter itself in fallback */
	uint64_t passed, dropped;    /* fallback mode counters */
	char reason[REASON_MAX];
};

/* libbpf reports why a load failed only through its print callback. While the probe loads,
 * keep the last specific warning instead of printing it: the fallback reason carries it. */
static _Thread_local char *libbpf_last_msg;

static int capture_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static const char prefix[] = "libbpf: ";
	char msg[REASON_MAX];
	size_t n;

	if (level != LIBBPF_WARN || !libbpf_last_msg)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The closing summary says only that the load failed; the line before names the cause. */
	if (strstr(msg, "failed to load BPF skeleton"))
		return 0;
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (strncmp(msg, prefix, sizeof(prefix) - 1) == 0)
		memmove(msg, msg + sizeof(prefix) - 1, n - (sizeof(prefix) - 1) + 1);
	memcpy(libbpf_last_msg, msg, sizeof(msg));
	return 0;
}

static int open_socket(int rcvbuf)
{
	static const int groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
				      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 0 };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			goto fail;
	return fd;
fail:;
	int r = -errno;

	close(fd);
	return r;
}

/* Loads the filter and attaches it to p->fd; on failure fills p->reason. */
static int attach_filter(struct probe *p)
{
	char libbpf_msg[REASON_MAX] = "";
	libbpf_print_fn_t old_print;
	struct linkfilter_bpf *skel;
	int r, prog_fd;

	libbpf_last_msg = libbpf_msg;
	old_print = libbpf_set_print(capture_libbpf_print);
	skel = linkfilter_bpf__open_and_load();
	r = skel ? 0 : -errno;
	libbpf_set_print(old_print);
	libbpf_last_msg = NULL;
	if (!skel) {
		snprintf(p->reason, sizeof(p->reason), "loading BPF socket filter linkfilter: %s%s%s",
			 strerror(-r), libbpf_msg[0] ? " (libbpf: " : "", libbpf_msg[0] ? libbpf_msg : "");
		if (libbpf_msg[0])
			strncat(p->reason, ")", sizeof(p->reason) - strlen(p->reason) - 1);
		return r;
	}
	prog_fd = bpf_program__fd(skel->progs.linkfilter);
	if (setsockopt(p->fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0) {
		r = -errno;
		snprintf(p->reason, sizeof(p->reason),
			 "attaching BPF socket filter linkfilter to the NETLINK_ROUTE socket: %s",
			 strerror(-r));
		linkfilter_bpf__destroy(skel);
		return r;
	}
	p->skel = skel;
	return 0;
}

int probe_open(const struct probe_opts *opts, struct probe **ret)
{
	struct probe_opts none = { 0 };
	struct probe *p;

	if (!ret)
		return -EINVAL;
	if (!opts)
		opts = &none;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = open_socket(opts->rcvbuf);
	if (p->fd < 0) {
		int r = p->fd;

		free(p);
		return r;
	}
	if (opts->force_fallback)
		snprintf(p->reason, sizeof(p->reason), "BPF socket filter disabled by configuration");
	else
		(void)attach_filter(p); /* failure recorded in p->reason: fall back */
	*ret = p;
	return 0;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	linkfilter_bpf__destroy(p->skel);
	ifindex_map_free(&p->tracked);
	free(p);
}

int probe_fd(const struct probe *p)
{
	return p->fd;
}

int probe_drain(struct probe *p)
{
	int n = 0;

	for (;;) {
		/* MSG_TRUNC with a zero-length buffer consumes one datagram without copying it. */
		ssize_t r = recv(p->fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC);

		if (r >= 0) {
			n++;
			continue;
		}
		if (errno == EINTR || errno == ENOBUFS)
			continue;
		if (errno == EAGAIN)
			return n;
		return -errno;
	}
}

const char *probe_mode(const struct probe *p)
{
	return p->skel ? "bpf" : "fallback";
}

const char *probe_fallback_reason(const struct probe *p)
{
	return p->skel ? "" : p->reason;
}

static int map_put(struct probe *p, int ifindex, uint32_t value)
{
	int r;

	if (ifindex <= 0)
		return -EINVAL;
	if (p->skel) {
		__u32 key = (__u32)ifindex, val = value;

		r = bpf_map__update_elem(p->skel->maps.tracked, &key, sizeof(key), &val, sizeof(val),
					 BPF_ANY);
		if (r < 0)
			return r; /* libbpf 1.x returns -errno directly */
	}
	r = ifindex_map_put(&p->tracked, ifindex, value);
	if (r < 0 && p->skel) {
		__u32 key = (__u32)ifindex;

		bpf_map__delete_elem(p->skel->maps.tracked, &key, sizeof(key), 0);
	}
	return r;
}

static int map_del(struct probe *p, int ifindex)
{
	int r = ifindex_map_del(&p->tracked, ifindex);

	if (r < 0)
		return r;
	if (p->skel) {
		__u32 key = (__u32)ifindex;

		r = bpf_map__delete_elem(p->skel->maps.tracked, &key, sizeof(key), 0);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

int probe_track(struct probe *p, int ifindex, uint32_t slot)
{
	if (slot == LINKFILTER_RELATED)
		return -ERANGE;
	return map_put(p, ifindex, slot);
}

int probe_untrack(struct probe *p, int ifindex)
{
	return map_del(p, ifindex);
}

int probe_relate(struct probe *p, int ifindex)
{
	uint32_t v;

	/* a VF is tracked for more than what stacks on it: leave it */
	if (ifindex_map_get(&p->tracked, ifindex, &v) && v != LINKFILTER_RELATED)
		return 0;
	return map_put(p, ifindex, LINKFILTER_RELATED);
}

int probe_unrelate(struct probe *p, int ifindex)
{
	uint32_t v;

	if (!ifindex_map_get(&p->tracked, ifindex, &v) || v != LINKFILTER_RELATED)
		return -ENOENT;
	return map_del(p, ifindex);
}

static int read_counter(const struct probe *p, __u32 key, uint64_t *ret)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *vals;
	int r;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	r = bpf_map__lookup_elem(p->skel->maps.counters, &key, sizeof(key), vals,
				 (size_t)ncpu * sizeof(*vals), 0);
	if (r == 0) {
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
		*ret = sum;
	}
	free(vals);
	return r;
}

int probe_counters(const struct probe *p, uint64_t *ret_passed, uint64_t *ret_dropped)
{
	uint64_t passed, dropped;
	int r;

	if (!p->skel) {
		passed = p->passed;
		dropped = p->dropped;
	} else {
		r = read_counter(p, LINKFILTER_CTR_PASSED, &passed);
		if (r < 0)
			return r;
		r = read_counter(p, LINKFILTER_CTR_DROPPED, &dropped);
		if (r < 0)
			return r;
	}
	if (ret_passed)
		*ret_passed = passed;
	if (ret_dropped)
		*ret_dropped = dropped;
	return 0;
}

static bool is_vf(const struct probe *p, int ifindex)
{
	uint32_t v;

	return ifindex_map_get(&p->tracked, ifindex, &v) && v != LINKFILTER_RELATED;
}

/* IFLA_LINK names any tracked device, IFLA_MASTER a VF: as the BPF program. */
static bool attr_matches(const struct probe *p, struct nlmsghdr *nlh, int type)
{
	struct nlattr *a = nlmsg_find_attr(nlh, sizeof(struct ifinfomsg), type);
	int ifindex;

	if (!a || nla_len(a) < (int)sizeof(uint32_t))
		return false;
	ifindex = (int)nla_get_u32(a);
	return type == IFLA_LINK ? ifindex_map_get(&p->tracked, ifindex, NULL) : is_vf(p, ifindex);
}

static bool decide_link(const struct probe *p, struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return false;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_family != AF_UNSPEC)
		return false;
	return ifindex_map_get(&p->tracked, ifi->ifi_index, NULL) ||
	       attr_matches(p, nlh, IFLA_LINK) || attr_matches(p, nlh, IFLA_MASTER);
}

static bool decide_addr(const struct probe *p, struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifa)))
		return false;
	ifa = nlmsg_data(nlh);
	return ifa->ifa_index <= INT32_MAX && is_vf(p, (int)ifa->ifa_index);
}

static bool decide_route(struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm;

	if (!nlmsg_valid_hdr(nlh, sizeof(*rtm)))
		return false;
	rtm = nlmsg_data(nlh);
	return (rtm->rtm_family == AF_INET || rtm->rtm_family == AF_INET6) &&
	       rtm->rtm_dst_len == 0 && rtm->rtm_src_len == 0 && rtm->rtm_table == RT_TABLE_MAIN;
}

static bool decide(const struct probe *p, const struct nlmsghdr *cnlh)
{
	/* libnl's accessors take non-const headers; they only read. */
	struct nlmsghdr *nlh = (struct nlmsghdr *)cnlh;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return decide_link(p, nlh);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return decide_addr(p, nlh);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return decide_route(nlh);
	default:
		return false;
	}
}

bool probe_pass_userspace(struct probe *p, const struct nlmsghdr *nlh)
{
	bool pass = decide(p, nlh);

	if (pass)
		p->passed++;
	else
		p->dropped++;
	return pass;
}

bool probe_filter(void *probe, const struct nlmsghdr *nlh)
{
	return probe_pass_userspace(probe, nlh);
}
