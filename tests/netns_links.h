/* SPDX-License-Identifier: MIT */
/* A private network namespace for one test, and the links the probe tests put in it. Every
 * helper asserts: a link that cannot be made is a failed test, not a quiet one. */
#ifndef VFPOOL_TESTS_NETNS_LINKS_H
#define VFPOOL_TESTS_NETNS_LINKS_H

#include <stdbool.h>

struct nl_sock;

/* Moves the test process into a new network namespace (children started later inherit
 * it) and returns an rtnetlink socket there. Skips the test, saying why, when not root. */
struct nl_sock *netns_enter(void);

int netns_ifindex(struct nl_sock *sk, const char *name);
/* A veth pair name <-> name"p"; returns name's ifindex. */
int netns_add_veth(struct nl_sock *sk, const char *name);
void netns_add_macvtap_passthru(struct nl_sock *sk, const char *name, const char *lower);
void netns_add_bridge(struct nl_sock *sk, const char *name);
void netns_enslave(struct nl_sock *sk, const char *bridge, const char *port);
void netns_release(struct nl_sock *sk, const char *port);
void netns_set_up(struct nl_sock *sk, const char *name, bool up);
void netns_del_link(struct nl_sock *sk, const char *name);
void netns_add_macvlan(struct nl_sock *sk, const char *name, const char *lower);
/* A bond, or a VLAN (id) on lower: 0, or the libnl error when this kernel has no bonding or
 * 802.1Q (the caller skips, saying so; the real-kernel guest of tests/kernel has both). */
int netns_try_add_bond(struct nl_sock *sk, const char *name);
int netns_try_add_vlan(struct nl_sock *sk, const char *name, const char *lower, int id);

/* "192.0.2.1/24" or "2001:db8::1/64" on dev (IPv6 without duplicate address detection, so
 * the address and its event are there when the request returns). */
void netns_add_addr(struct nl_sock *sk, const char *dev, const char *cidr);
void netns_del_addr(struct nl_sock *sk, const char *dev, const char *cidr);

/* The main table's default route of family (AF_INET, AF_INET6) through dev, on-link (no
 * gateway): added (fails if one exists), replaced (NLM_F_REPLACE) or deleted. */
void netns_add_default_route(struct nl_sock *sk, int family, const char *dev);
void netns_replace_default_route(struct nl_sock *sk, int family, const char *dev);
void netns_del_default_route(struct nl_sock *sk, int family, const char *dev);

#endif
