/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/probe/pf_link.h"
#include "shm/seqlock.h"
#include "shm/state.h"

struct pf_link {
	struct vfpool_state_hdr *hdr;
	uint32_t n;
	int32_t *ifindex; /* per PF: its netdev's here, 0: none */
};

bool pf_link_flags_down(unsigned ifi_flags)
{
	/* IFF_RUNNING: operationally up (carrier, RFC 2863), in SIOCGIFFLAGS's 16 bits too */
	return !(ifi_flags & IFF_UP) || !(ifi_flags & IFF_RUNNING);
}

int pf_link_new(struct vfpool_state_hdr *hdr, struct pf_link **ret)
{
	struct pf_link *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return -ENOMEM;
	pl->hdr = hdr;
	pl->n = hdr->n_pfs;
	pl->ifindex = calloc(pl->n ? pl->n : 1, sizeof(*pl->ifindex));
	if (!pl->ifindex) {
		free(pl);
		return -ENOMEM;
	}
	*ret = pl;
	return 0;
}

void pf_link_free(struct pf_link *pl)
{
	if (!pl)
		return;
	free(pl->ifindex);
	free(pl);
}

static void publish(struct pf_link *pl, uint32_t pf, bool down)
{
	struct vfpool_shm_pf *p = &state_pfs(pl->hdr)[pf];
	bool was = (p->flags & VFPOOL_PF_F_LINK_DOWN) != 0;

	if (was == down)
		return;
	seqlock_write_begin(&pl->hdr->seq);
	if (down)
		p->flags |= VFPOOL_PF_F_LINK_DOWN;
	else
		p->flags &= ~VFPOOL_PF_F_LINK_DOWN;
	seqlock_write_end(&pl->hdr->seq);
	log_info("pf_link", "pf=%s netdev=%s link=%s", p->pci_addr, p->netdev,
		 down ? "down" : "up");
}

void pf_link_refresh(struct pf_link *pl, void (*relate)(void *ctx, int ifindex, bool on),
		     void *ctx)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (uint32_t pf = 0; pf < pl->n && pf < pl->hdr->n_pfs; pf++) {
		const struct vfpool_shm_pf *p = &state_pfs(pl->hdr)[pf];
		int ifindex = p->netdev[0] ? (int)if_nametoindex(p->netdev) : 0;
		struct ifreq ifr = { 0 };
		bool down = false;

		if (ifindex != pl->ifindex[pf]) {
			if (pl->ifindex[pf] > 0 && relate)
				relate(ctx, pl->ifindex[pf], false);
			if (ifindex > 0 && relate)
				relate(ctx, ifindex, true);
			pl->ifindex[pf] = ifindex;
		}
		if (ifindex > 0 && fd >= 0) {
			memcpy(ifr.ifr_name, p->netdev, sizeof(ifr.ifr_name) - 1);
			if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
				down = pf_link_flags_down((unsigned short)ifr.ifr_flags);
		}
		publish(pl, pf, down);
	}
	if (fd >= 0)
		close(fd);
}

void pf_link_feed(struct pf_link *pl, const void *buf, size_t len)
{
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (const struct nlmsghdr *nlh = buf; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		const struct ifinfomsg *ifi;

		if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			continue;
		ifi = NLMSG_DATA(nlh);
		for (uint32_t pf = 0; pf < pl->n; pf++) {
			if (ifi->ifi_index <= 0 || pl->ifindex[pf] != ifi->ifi_index)
				continue;
			/* a PF netdev that went is not known to be down */
			publish(pl, pf, nlh->nlmsg_type == RTM_NEWLINK &&
					 pf_link_flags_down(ifi->ifi_flags));
		}
	}
}
