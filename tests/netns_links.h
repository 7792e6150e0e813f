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

#endif
