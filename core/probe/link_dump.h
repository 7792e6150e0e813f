/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink dumps streamed one message at a time (links, addresses, routes of one table):
 * nothing is cached, so a host with a large routing table costs time, never memory.
 */
#ifndef VFPOOL_CORE_LINK_DUMP_H
#define VFPOOL_CORE_LINK_DUMP_H

#include <stdint.h>

struct nl_msg;
struct nl_sock;

/* Opens an rtnetlink socket for dumps in the caller's network namespace, with strict
 * checking on (NETLINK_GET_STRICT_CHK) so the kernel applies the dumps' filters; an older
 * kernel without it dumps everything, which the caller filters anyway. */
int link_dump_socket(struct nl_sock **ret_sock);

/* Called for each message of the dump. */
typedef void (*link_dump_fn)(void *ctx, struct nl_msg *msg);

/* Dumps type (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE) of family; for RTM_GETROUTE, table
 * (e.g. RT_TABLE_MAIN) is a filter the kernel applies under strict checking. 0, -EINTR when
 * the dump was interrupted by a change (NLM_F_DUMP_INTR: every message was still passed
 * to fn; dump again for a consistent picture), or another negative errno. */
int link_dump(struct nl_sock *sk, int type, int family, uint8_t table, link_dump_fn fn,
	      void *ctx);

#endif
