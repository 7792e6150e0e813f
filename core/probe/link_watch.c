/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "bpf/ifindex_map.h"
#include "core/base/array.h"
#include "core/probe/link_watch.h"
#include "core/nl_errno.h"

#define KIND_MAX 16

/* A device on top of a VF that makes it busy (macvtap, macvlan, vlan). */
struct upper {
	int ifindex;
	int vf_ifindex;
	uint64_t since; /* order of arrival: the oldest holder names the reason */
	char name[IFNAMSIZ];
	char kind[KIND_MAX];
};

struct vf {
	int ifindex;
	uint32_t slot;
	int bridge;            /* ifindex of the bridge it is enslaved to, 0: none */
	uint64_t bridge_since;
	char bridge_name[IFNAMSIZ];
	unsigned n_uppers;
	bool busy;             /* as last reported */
	char reason[LINK_WATCH_REASON_MAX];
};

struct link_watch {
	link_watch_cb cb;
	void *userdata;
	link_watch_filter filter;
	void *filter_ctx;

	struct vf *vfs;
	size_t n_vfs, cap_vfs;
	struct ifindex_map vf_index; /* VF ifindex -> index in vfs */

	struct upper *uppers;
	size_t n_uppers, cap_uppers;
	struct ifindex_map upper_index; /* upper ifindex -> index in uppers */

	uint64_t clock;       /* hands out `since` values */
	bool deferred;        /* resync: evaluate every VF once at the end */
	struct nl_cache *names; /* resync: the dump, to name bridges */
	int error;            /* first error inside a libnl callback */
	struct link_watch_stats stats;
};

static bool kind_makes_busy(const char *kind)
{
	return kind && (strcmp(kind, "macvtap") == 0 || strcmp(kind, "macvlan") == 0 ||
			strcmp(kind, "vlan") == 0);
}

static struct vf *find_vf(struct link_watch *lw, int ifindex)
{
	uint32_t i;

	return ifindex_map_get(&lw->vf_index, ifindex, &i) ? &lw->vfs[i] : NULL;
}

static struct upper *find_upper(struct link_watch *lw, int ifindex)
{
	uint32_t i;

	return ifindex_map_get(&lw->upper_index, ifindex, &i) ? &lw->uppers[i] : NULL;
}

/* What the VF's state should be now: the oldest remaining holder names the reason. */
static bool compute(const struct link_watch *lw, const struct vf *vf,
		    char reason[LINK_WATCH_REASON_MAX])
{
	const struct upper *oldest = NULL;
	uint64_t best = UINT64_MAX;

	reason[0] = '\0';
	if (vf->n_uppers) {
		for (size_t i = 0; i < lw->n_uppers; i++)
			if (lw->uppers[i].vf_ifindex == vf->ifindex && lw->uppers[i].since < best) {
				oldest = &lw->uppers[i];
				best = oldest->since;
			}
	}
	if (vf->bridge && vf->bridge_since < best) {
		snprintf(reason, LINK_WATCH_REASON_MAX, "enslaved to bridge %s", vf->bridge_name);
		return true;
	}
	if (!oldest)
		return false;
	if (strcmp(oldest->kind, "vlan") == 0)
		snprintf(reason, LINK_WATCH_REASON_MAX, "vlan %s on top", oldest->name);
	else
		snprintf(reason, LINK_WATCH_REASON_MAX, "%s (%s) on top", oldest->name, oldest->kind);
	return true;
}

static void evaluate(struct link_watch *lw, struct vf *vf)
{
	char reason[LINK_WATCH_REASON_MAX];
	bool busy;

	if (lw->deferred)
		return;
	busy = compute(lw, vf, reason);
	if (busy == vf->busy && strcmp(reason, vf->reason) == 0)
		return;
	vf->busy = busy;
	memcpy(vf->reason, reason, sizeof(reason));
	lw->stats.transitions++;
	if (lw->cb)
		lw->cb(lw->userdata, vf->slot, busy, reason);
}

static int upper_add(struct link_watch *lw, int ifindex, struct vf *vf, const char *name,
		     const char *kind)
{
	struct upper *u;
	int r;

	r = array_reserve(lw->uppers, lw->cap_uppers, lw->n_uppers + 1, 16);
	if (r < 0)
		return r;
	r = ifindex_map_put(&lw->upper_index, ifindex, (uint32_t)lw->n_uppers);
	if (r < 0)
		return r;
	u = &lw->uppers[lw->n_uppers++];
	*u = (struct upper){ .ifindex = ifindex, .vf_ifindex = vf->ifindex, .since = ++lw->clock };
	snprintf(u->name, sizeof(u->name), "%s", name ? name : "?");
	snprintf(u->kind, sizeof(u->kind), "%s", kind);
	vf->n_uppers++;
	return 0;
}

/* Removes an upper; returns the VF it was on (NULL when that VF is no longer tracked). */
static struct vf *upper_remove(struct link_watch *lw, struct upper *u)
{
	size_t i = (size_t)(u - lw->uppers);
	struct vf *vf = find_vf(lw, u->vf_ifindex);

	if (vf)
		vf->n_uppers--;
	ifindex_map_del(&lw->upper_index, u->ifindex);
	if (i != lw->n_uppers - 1) {
		lw->uppers[i] = lw->uppers[lw->n_uppers - 1];
		ifindex_map_put(&lw->upper_index, lw->uppers[i].ifindex, (uint32_t)i); /* exists */
	}
	lw->n_uppers--;
	return vf;
}

static void bridge_name(struct link_watch *lw, int ifindex, char name[IFNAMSIZ])
{
	struct rtnl_link *b = lw->names ? rtnl_link_get(lw->names, ifindex) : NULL;

	if (b) {
		snprintf(name, IFNAMSIZ, "%s", rtnl_link_get_name(b));
		rtnl_link_put(b);
		return;
	}
	/* An event names the master only by ifindex. If the bridge is already gone again,
	 * its number is the best we can say. */
	if (!if_indextoname((unsigned)ifindex, name))
		snprintf(name, IFNAMSIZ, "#%d", ifindex);
}

/* The VF's own message: what is it enslaved to? */
static void apply_vf_newlink(struct link_watch *lw, struct vf *vf, struct rtnl_link *link)
{
	const char *slave_kind = rtnl_link_get_slave_type(link);
	int master = rtnl_link_get_master(link);

	if (master > 0 && slave_kind && strcmp(slave_kind, "bridge") == 0) {
		if (vf->bridge != master) {
			vf->bridge = master;
			vf->bridge_since = ++lw->clock;
			bridge_name(lw, master, vf->bridge_name);
		}
	} else {
		/* No master, or a master that does not make it busy (bond, team, ...). */
		vf->bridge = 0;
	}
	evaluate(lw, vf);
}

static int apply_newlink(struct link_watch *lw, struct rtnl_link *link)
{
	int ifindex = rtnl_link_get_ifindex(link);
	struct vf *lower = find_vf(lw, rtnl_link_get_link(link));
	const char *kind = rtnl_link_get_type(link);
	struct upper *u = find_upper(lw, ifindex);
	struct vf *vf = find_vf(lw, ifindex);
	int r;

	if (vf)
		apply_vf_newlink(lw, vf, link);

	if (lower && lower->ifindex != ifindex && kind_makes_busy(kind)) {
		if (u && u->vf_ifindex == lower->ifindex) {
			/* Known already: a rename or a flag change. */
			snprintf(u->name, sizeof(u->name), "%s", rtnl_link_get_name(link));
		} else {
			if (u)
				upper_remove(lw, u);
			r = upper_add(lw, ifindex, lower, rtnl_link_get_name(link), kind);
			if (r < 0)
				return r;
		}
		evaluate(lw, lower);
	} else if (u) {
		struct vf *was = upper_remove(lw, u);

		if (was)
			evaluate(lw, was);
	}
	return 0;
}

static void apply_dellink(struct link_watch *lw, struct rtnl_link *link)
{
	int ifindex = rtnl_link_get_ifindex(link);
	struct upper *u = find_upper(lw, ifindex);
	struct vf *vf = find_vf(lw, ifindex);

	if (u) {
		struct vf *was = upper_remove(lw, u);

		if (was)
			evaluate(lw, was);
	}
	if (vf) {
		/* The VF netdev itself went away: nothing of the host sits on it any more. */
		for (size_t i = lw->n_uppers; i-- > 0;)
			if (lw->uppers[i].vf_ifindex == ifindex)
				upper_remove(lw, &lw->uppers[i]);
		vf->bridge = 0;
		evaluate(lw, vf);
	}
}

static void parse_cb(struct nl_object *obj, void *arg)
{
	struct link_watch *lw = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	int r = 0;

	/* AF_BRIDGE port messages repeat what the AF_UNSPEC ones say, and their RTM_DELLINK
	 * means "left the bridge", not "gone". */
	if (rtnl_link_get_family(link) != AF_UNSPEC)
		return;
	lw->stats.decoded++;
	if (nl_object_get_msgtype(obj) == RTM_DELLINK)
		apply_dellink(lw, link);
	else
		r = apply_newlink(lw, link);
	if (r < 0 && lw->error == 0)
		lw->error = r;
}

static int feed_one(struct link_watch *lw, struct nlmsghdr *nlh)
{
	struct nl_msg *msg;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	lw->stats.fed++;
	if (lw->filter && !lw->filter(lw->filter_ctx, nlh)) {
		lw->stats.filtered++;
		return 0;
	}
	msg = nlmsg_convert(nlh);
	if (!msg)
		return -ENOMEM;
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	lw->error = 0;
	r = nl_msg_parse(msg, parse_cb, lw);
	nlmsg_free(msg);
	if (r < 0) {
		lw->stats.decode_errors++;
		return 0; /* one undecodable message must not stop the rest */
	}
	return lw->error;
}

int link_watch_feed(struct link_watch *lw, const void *buf, size_t len)
{
	/* libnl walks non-const headers; the buffer is only read. */
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int rem, r;

	if (len > INT32_MAX)
		return -EINVAL;
	rem = (int)len;
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		r = feed_one(lw, nlh);
		if (r < 0)
			return r;
	}
	return rem == 0 ? 0 : -EBADMSG;
}

static void resync_cb(struct nl_object *obj, void *arg)
{
	struct link_watch *lw = arg;
	int r = apply_newlink(lw, (struct rtnl_link *)obj);

	if (r < 0 && lw->error == 0)
		lw->error = r;
}

static int dump_links(struct nl_sock *sk, struct nl_cache **ret_cache)
{
	int r = 0;

	/* A dump that races with changes comes back NLE_DUMP_INTR: just ask again. */
	for (int attempt = 0; attempt < 5; attempt++) {
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, ret_cache);
		if (r != -NLE_DUMP_INTR)
			break;
	}
	return nl_errno(r);
}

int link_watch_resync(struct link_watch *lw, struct nl_sock *dump_sock)
{
	struct nl_sock *own = NULL;
	struct nl_cache *cache = NULL;
	int r;

	if (!dump_sock) {
		own = nl_socket_alloc();
		if (!own)
			return -ENOMEM;
		r = nl_errno(nl_connect(own, NETLINK_ROUTE));
		if (r < 0)
			goto out;
		dump_sock = own;
	}
	r = dump_links(dump_sock, &cache);
	if (r < 0)
		goto out;

	/* Forget every holder, replay the dump without reporting, then report each VF whose
	 * decision differs from what was last reported. */
	lw->n_uppers = 0;
	ifindex_map_clear(&lw->upper_index);
	for (size_t i = 0; i < lw->n_vfs; i++) {
		lw->vfs[i].n_uppers = 0;
		lw->vfs[i].bridge = 0;
	}
	lw->deferred = true;
	lw->names = cache;
	lw->error = 0;
	nl_cache_foreach(cache, resync_cb, lw);
	lw->names = NULL;
	lw->deferred = false;
	r = lw->error;
	for (size_t i = 0; i < lw->n_vfs; i++)
		evaluate(lw, &lw->vfs[i]);
	lw->stats.resyncs++;
out:
	nl_cache_free(cache);
	nl_socket_free(own);
	return r;
}

int link_watch_new(struct link_watch **ret, link_watch_cb cb, void *userdata)
{
	struct link_watch *lw;

	if (!ret)
		return -EINVAL;
	lw = calloc(1, sizeof(*lw));
	if (!lw)
		return -ENOMEM;
	lw->cb = cb;
	lw->userdata = userdata;
	*ret = lw;
	return 0;
}

void link_watch_free(struct link_watch *lw)
{
	if (!lw)
		return;
	ifindex_map_free(&lw->vf_index);
	ifindex_map_free(&lw->upper_index);
	free(lw->vfs);
	free(lw->uppers);
	free(lw);
}

void link_watch_set_filter(struct link_watch *lw, link_watch_filter filter, void *ctx)
{
	lw->filter = filter;
	lw->filter_ctx = ctx;
}

int link_watch_track_vf(struct link_watch *lw, int ifindex, uint32_t slot)
{
	int r;

	if (ifindex <= 0)
		return -EINVAL;
	if (find_vf(lw, ifindex))
		return -EEXIST;
	r = array_reserve(lw->vfs, lw->cap_vfs, lw->n_vfs + 1, 16);
	if (r < 0)
		return r;
	r = ifindex_map_put(&lw->vf_index, ifindex, (uint32_t)lw->n_vfs);
	if (r < 0)
		return r;
	lw->vfs[lw->n_vfs++] = (struct vf){ .ifindex = ifindex, .slot = slot };
	return 0;
}

int link_watch_untrack_vf(struct link_watch *lw, int ifindex)
{
	struct vf *vf = find_vf(lw, ifindex);
	size_t i;

	if (!vf)
		return -ENOENT;
	for (size_t u = lw->n_uppers; u-- > 0;)
		if (lw->uppers[u].vf_ifindex == ifindex)
			upper_remove(lw, &lw->uppers[u]);
	i = (size_t)(vf - lw->vfs);
	ifindex_map_del(&lw->vf_index, ifindex);
	if (i != lw->n_vfs - 1) {
		lw->vfs[i] = lw->vfs[lw->n_vfs - 1];
		ifindex_map_put(&lw->vf_index, lw->vfs[i].ifindex, (uint32_t)i); /* exists */
	}
	lw->n_vfs--;
	return 0;
}

int link_watch_vf_state(const struct link_watch *lw, int ifindex, bool *ret_busy,
			char reason[LINK_WATCH_REASON_MAX])
{
	uint32_t i;

	if (!ifindex_map_get(&lw->vf_index, ifindex, &i))
		return -ENOENT;
	if (ret_busy)
		*ret_busy = lw->vfs[i].busy;
	if (reason)
		memcpy(reason, lw->vfs[i].reason, LINK_WATCH_REASON_MAX);
	return 0;
}

void link_watch_get_stats(const struct link_watch *lw, struct link_watch_stats *ret_stats)
{
	*ret_stats = lw->stats;
}
