/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "core/nl_errno.h"
#include "core/probe/link_dump.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

int link_dump_socket(struct nl_sock **ret_sock)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, r;

	if (!sk)
		return -ENOMEM;
	r = nl_errno(nl_connect(sk, NETLINK_ROUTE));
	if (r < 0) {
		nl_socket_free(sk);
		return r;
	}
	/* best effort: without it (before Linux 4.20) the filters are ignored, not refused */
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
			 sizeof(one));
	*ret_sock = sk;
	return 0;
}

struct dump {
	link_dump_fn fn;
	void *ctx;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;

	d->fn(d->ctx, msg);
	return NL_OK;
}

int link_dump(struct nl_sock *sk, int type, int family, uint8_t table, link_dump_fn fn,
	      void *ctx)
{
	struct dump d = { .fn = fn, .ctx = ctx };
	/* the header each request type has; zeroed fields are "no filter" to strict checking */
	union {
		struct ifinfomsg link;
		struct ifaddrmsg addr;
		struct rtmsg route;
	} hdr = { 0 };
	size_t len;
	struct nl_cb *sock_cb, *cb;
	int r;

	switch (type) {
	case RTM_GETLINK:
		hdr.link.ifi_family = (unsigned char)family;
		len = sizeof(hdr.link);
		break;
	case RTM_GETADDR:
		hdr.addr.ifa_family = (unsigned char)family;
		len = sizeof(hdr.addr);
		break;
	case RTM_GETROUTE:
		hdr.route.rtm_family = (unsigned char)family;
		hdr.route.rtm_table = table;
		len = sizeof(hdr.route);
		break;
	default:
		return -EINVAL;
	}
	sock_cb = nl_socket_get_cb(sk); /* a reference */
	cb = nl_cb_clone(sock_cb);
	nl_cb_put(sock_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &d);
	r = nl_send_simple(sk, type, NLM_F_DUMP, &hdr, len);
	if (r >= 0)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return nl_errno(r < 0 ? r : 0);
}
