/* SPDX-License-Identifier: MIT */
/*
 * The PFs' link state for readers (VFPOOL_PF_F_LINK_DOWN in each PF record): a PF whose
 * netdev is down (administratively, or without carrier) carries no VF traffic, which a
 * scheduler (the Kubernetes plugin: its VFs Unhealthy) wants to know. Part of the link
 * probe: read with SIOCGIFFLAGS when the probe starts, resyncs or the host changes, then
 * kept current from the probe's own link events (the probe's filter passes the PF netdevs'
 * events: they are related devices to it). A PF with no netdev in the daemon's network
 * namespace is not known to be down: its flag stays clear.
 */
#ifndef VFPOOL_CORE_PF_LINK_H
#define VFPOOL_CORE_PF_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

/* Down, from a netdev's flags (IFF_UP, IFF_RUNNING): not up, or up but not operational
 * (no carrier). */
bool pf_link_flags_down(unsigned ifi_flags);

struct pf_link;

/* Sizes itself for the segment's PFs. */
int pf_link_new(struct vfpool_state_hdr *hdr, struct pf_link **ret);
void pf_link_free(struct pf_link *pl);
/* Resolves every PF netdev here and reads its flags; publishes what changed. The ifindex of
 * each PF netdev found goes to relate (the probe's filter), the one of each that went to
 * unrelate. */
void pf_link_refresh(struct pf_link *pl, void (*relate)(void *ctx, int ifindex, bool on),
		     void *ctx);
/* One recv()'s worth of rtnetlink messages: the PF netdevs' RTM_NEWLINK and RTM_DELLINK
 * update their flag. */
void pf_link_feed(struct pf_link *pl, const void *buf, size_t len);

#endif
