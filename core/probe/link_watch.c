/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "bpf/ifindex_map.h"
#include "core/probe/link_dump.h"
#include "core/probe/link_watch.h"

#define KIND_MAX 16
/* Steps walked between a VF and the device holding the default route, or up to the devices
 * related to it: a bridge on a VLAN on a bond on the VF is 3. */
#define MAX_DEPTH 8
#define NO_SINCE UINT64_MAX

/* A device link_watch knows: every tracked VF, and every stacking or master device seen (in
 * the last dump or a message since). Others (veth, tun, physical NICs) are not kept: nothing
 * stacks on a VF through them. */
struct dev {
	int ifindex;
	int link;              /* IFLA_LINK in this namespace (stacking devices: the lower) */
	int master;            /* IFLA_MASTER, 0: none */
	unsigned flags;        /* IFF_* */
	int32_t vf;            /* index in vfs, -1: not a tracked VF */
	uint64_t since;        /* when it took its place on its lower: the oldest names a reason */
	uint64_t master_since; /* when it got its master */
	uint32_t seen;         /* resync generation that last saw it */
	uint32_t mark;         /* evaluation generation (related set, default-route walks) */
	bool via_master;       /* joined the related set as somebody's master */
	char name[IFNAMSIZ];
	char kind[KIND_MAX];       /* IFLA_INFO_KIND, "" for none */
	char slave_kind[KIND_MAX]; /* its master's kind, as its own message states it */
};

struct vf {
	int ifindex;
	uint32_t slot;
	/* the verdict as last reported */
	bool busy;
	uint32_t uses;
	char reason[LINK_WATCH_REASON_MAX];
	/* the evaluation in progress */
	uint32_t new_uses;
	uint64_t new_since;
	char new_reason[LINK_WATCH_REASON_MAX];
};

/* A unicast address on a tracked VF (IPv6 link-local ones are not kept). */
struct addr {
	int ifindex;
	uint8_t family, prefixlen, len;
	uint8_t bytes[16];
	uint64_t since;
	uint32_t seen;
};

/* One next hop of a main-table default route. Identified the way the kernel matches a
 * route to replace or delete: family, priority, TOS, and the next hop itself. */
struct route {
	uint8_t family, tos, gw_len;
	uint32_t priority;
	int oif;
	uint8_t gw[16];
};

struct link_watch {
	link_watch_cb cb;
	void *userdata;
	link_watch_related_cb related_cb;
	void *related_userdata;
	link_watch_filter filter;
	void *filter_ctx;
	bool busy_when_up;

	struct vf *vfs;
	size_t n_vfs, cap_vfs;
	struct ifindex_map vf_index;  /* VF ifindex -> index in vfs */

	struct dev *devs;
	size_t n_devs, cap_devs;
	struct ifindex_map dev_index; /* ifindex -> index in devs */

	struct addr *addrs;
	size_t n_addrs, cap_addrs;
	struct route *routes;
	size_t n_routes, cap_routes;

	struct ifindex_map related;   /* as last reported through related_cb */

	uint64_t clock;       /* hands out `since` values */
	uint32_t seen_gen;    /* resync generations */
	uint32_t mark_gen;    /* evaluation generations */
	bool deferred;        /* resync: evaluate once at the end */
	bool resyncing;       /* the resync's own evaluation: what joins is fresh */
	bool resync_due;
	uint16_t msg_flags;   /* nlmsg_flags of the message being decoded (NLM_F_REPLACE) */
	uint8_t msg_family;   /* its ifi_family, for link messages: libnl reports a bridge's
			       * own AF_UNSPEC messages as AF_BRIDGE */
	int error;            /* first error inside a libnl callback */
	int dump_error;       /* first error of a dump's messages */
	struct link_watch_stats stats;
};

/* ---- what kinds mean ----------------------------------------------------------------- */

/* Devices whose traffic goes through their IFLA_LINK device. */
static bool kind_stacks(const char *kind)
{
	static const char *const kinds[] = { "vlan", "macvlan", "macvtap", "ipvlan", "ipvtap" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

enum master_use { MASTER_NONE, MASTER_BRIDGE, MASTER_BOND };

static enum master_use master_use(const char *kind)
{
	if (strcmp(kind, "bridge") == 0 || strcmp(kind, "openvswitch") == 0)
		return MASTER_BRIDGE;
	if (strcmp(kind, "bond") == 0 || strcmp(kind, "team") == 0)
		return MASTER_BOND;
	return MASTER_NONE;
}

static bool kind_kept(const char *kind)
{
	return kind_stacks(kind) || master_use(kind) != MASTER_NONE;
}

/* ---- tables -------------------------------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static struct vf *find_vf(const struct link_watch *lw, int ifindex)
{
	uint32_t i;

	return ifindex_map_get(&lw->vf_index, ifindex, &i) ? &lw->vfs[i] : NULL;
}

static struct dev *find_dev(const struct link_watch *lw, int ifindex)
{
	uint32_t i;

	return ifindex_map_get(&lw->dev_index, ifindex, &i) ? &lw->devs[i] : NULL;
}

static struct dev *dev_add(struct link_watch *lw, int ifindex)
{
	struct dev *d;

	if (grow((void **)&lw->devs, &lw->cap_devs, lw->n_devs, sizeof(*d)) < 0 ||
	    ifindex_map_put(&lw->dev_index, ifindex, (uint32_t)lw->n_devs) < 0) {
		lw->error = lw->error ? lw->error : -ENOMEM;
		return NULL;
	}
	d = &lw->devs[lw->n_devs++];
	*d = (struct dev){ .ifindex = ifindex, .vf = -1, .seen = lw->seen_gen,
			   .since = ++lw->clock };
	return d;
}

static void dev_remove(struct link_watch *lw, struct dev *d)
{
	size_t i = (size_t)(d - lw->devs);

	ifindex_map_del(&lw->dev_index, d->ifindex);
	if (i != lw->n_devs - 1) {
		lw->devs[i] = lw->devs[lw->n_devs - 1];
		ifindex_map_put(&lw->dev_index, lw->devs[i].ifindex, (uint32_t)i); /* exists */
	}
	lw->n_devs--;
}

/* What a tracked VF's netdev is when nothing is known of it (gone, or not seen yet). */
static void dev_forget(struct dev *d)
{
	d->link = 0;
	d->master = 0;
	d->flags = 0;
	d->kind[0] = '\0';
	d->slave_kind[0] = '\0';
}

static void addrs_drop(struct link_watch *lw, int ifindex)
{
	for (size_t i = lw->n_addrs; i-- > 0;)
		if (lw->addrs[i].ifindex == ifindex)
			lw->addrs[i] = lw->addrs[--lw->n_addrs];
}

/* The kernel drops the routes through a device that goes down or away, without telling
 * (IPv4 fib_sync_down_dev, IPv6 rt6_sync_down_dev skip the notification). */
static void routes_drop(struct link_watch *lw, int oif)
{
	for (size_t i = lw->n_routes; i-- > 0;)
		if (lw->routes[i].oif == oif)
			lw->routes[i] = lw->routes[--lw->n_routes];
}

/* ---- verdicts ------------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static void holder(struct vf *v, uint32_t use,
							 uint64_t since, const char *fmt, ...)
{
	va_list ap;

	v->new_uses |= use;
	if (since >= v->new_since)
		return;
	v->new_since = since;
	va_start(ap, fmt);
	vsnprintf(v->new_reason, sizeof(v->new_reason), fmt, ap);
	va_end(ap);
}

static const char *dev_name(const struct dev *d, char buf[IFNAMSIZ])
{
	if (d->name[0])
		return d->name;
	snprintf(buf, IFNAMSIZ, "#%d", d->ifindex);
	return buf;
}

/* "address <a> configured"; an IPv6 address too long for that keeps all its digits and
 * loses the verb. */
static void address_reason(struct vf *v, const struct addr *a)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->bytes, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	if (strlen("address  configured") + strlen(text) < sizeof(v->new_reason))
		holder(v, VFPOOL_HOST_USE_ADDRESS, a->since, "address %s configured", text);
	else
		holder(v, VFPOOL_HOST_USE_ADDRESS, a->since, "address %s", text);
}

/* Marks every tracked VF under a device holding a default route: the device itself, the
 * lower of a stacking device, the ports of a master, and so on down. */
static void mark_under_default_routes(struct link_watch *lw)
{
	uint32_t gen = ++lw->mark_gen;
	bool changed = true;

	for (size_t i = 0; i < lw->n_routes; i++) {
		struct dev *h = find_dev(lw, lw->routes[i].oif);

		if (h)
			h->mark = gen;
	}
	for (int depth = 0; depth < MAX_DEPTH && changed; depth++) {
		changed = false;
		for (size_t i = 0; i < lw->n_devs; i++) {
			struct dev *d = &lw->devs[i], *o;

			if (d->mark == gen) {
				o = d->link && kind_stacks(d->kind) ? find_dev(lw, d->link) : NULL;
				if (o && o->mark != gen) {
					o->mark = gen;
					changed = true;
				}
			} else if (d->master && (o = find_dev(lw, d->master)) && o->mark == gen) {
				d->mark = gen;
				changed = true;
			}
		}
	}
	for (size_t i = 0; i < lw->n_vfs; i++) {
		const struct dev *d = find_dev(lw, lw->vfs[i].ifindex);

		if (d && d->mark == gen)
			lw->vfs[i].new_uses |= VFPOOL_HOST_USE_DEFAULT_ROUTE;
	}
}

static void compute_verdicts(struct link_watch *lw)
{
	char name[IFNAMSIZ];

	for (size_t i = 0; i < lw->n_vfs; i++) {
		lw->vfs[i].new_uses = 0;
		lw->vfs[i].new_since = NO_SINCE;
		lw->vfs[i].new_reason[0] = '\0';
	}
	/* devices on a VF, and each VF's master */
	for (size_t i = 0; i < lw->n_devs; i++) {
		struct dev *d = &lw->devs[i];
		struct vf *v;

		if (d->link && (v = find_vf(lw, d->link)) && d->ifindex != v->ifindex) {
			if (strcmp(d->kind, "vlan") == 0)
				holder(v, VFPOOL_HOST_USE_VLAN, d->since, "vlan %s on top",
				       dev_name(d, name));
			else if (strcmp(d->kind, "macvtap") == 0 || strcmp(d->kind, "macvlan") == 0)
				holder(v, VFPOOL_HOST_USE_MACVTAP, d->since, "%s (%s) on top",
				       dev_name(d, name), d->kind);
		}
		if (d->vf >= 0 && d->master) {
			const struct dev *m = find_dev(lw, d->master);
			/* the master's own kind where known, else the one the kernel states in
			 * the VF's message (the master's link ops' kind) */
			const char *kind = m && m->kind[0] ? m->kind : d->slave_kind, *mname;

			v = &lw->vfs[d->vf];
			if (m) {
				mname = dev_name(m, name);
			} else {
				snprintf(name, sizeof(name), "#%d", d->master);
				mname = name;
			}
			switch (master_use(kind)) {
			case MASTER_BRIDGE:
				holder(v, VFPOOL_HOST_USE_BRIDGE_PORT, d->master_since,
				       "enslaved to %s %s", kind, mname);
				break;
			case MASTER_BOND:
				holder(v, VFPOOL_HOST_USE_BOND_MEMBER, d->master_since,
				       "%s member of %s", kind, mname);
				break;
			case MASTER_NONE:
				break;
			}
		}
	}
	for (size_t i = 0; i < lw->n_addrs; i++) {
		struct vf *v = find_vf(lw, lw->addrs[i].ifindex);

		if (v)
			address_reason(v, &lw->addrs[i]);
	}
	mark_under_default_routes(lw);
	for (size_t i = 0; i < lw->n_vfs; i++) {
		struct vf *v = &lw->vfs[i];
		const struct dev *d = find_dev(lw, v->ifindex);

		if (v->new_uses & VFPOOL_HOST_USE_DEFAULT_ROUTE)
			snprintf(v->new_reason, sizeof(v->new_reason), "holds the default route");
		else if (!v->new_uses && d && (d->flags & IFF_UP)) {
			v->new_uses = VFPOOL_HOST_USE_UP;
			snprintf(v->new_reason, sizeof(v->new_reason), "up on the host, not leased");
		}
	}
}

/* The devices over the tracked VFs: each VF's master, the devices stacked on a VF, and so on
 * up. Reports who joined and who left; a master that joined may have had devices stacked on
 * it already, unseen: a resync is due. */
static void compute_related(struct link_watch *lw)
{
	uint32_t gen = ++lw->mark_gen;
	int gone[64];
	size_t n_gone;
	bool changed = true;

	for (size_t i = 0; i < lw->n_devs; i++) {
		lw->devs[i].via_master = false;
		if (lw->devs[i].vf >= 0)
			lw->devs[i].mark = gen;
	}
	for (int depth = 0; depth < MAX_DEPTH && changed; depth++) {
		changed = false;
		for (size_t i = 0; i < lw->n_devs; i++) {
			struct dev *d = &lw->devs[i], *o;

			if (d->mark == gen) {
				o = d->master ? find_dev(lw, d->master) : NULL;
				if (o && o->mark != gen) {
					o->mark = gen;
					o->via_master = true;
					changed = true;
				}
			} else if (d->link && kind_stacks(d->kind) && (o = find_dev(lw, d->link)) &&
				   o->mark == gen) {
				d->mark = gen;
				changed = true;
			}
		}
	}
	for (size_t i = 0; i < lw->n_devs; i++) {
		struct dev *d = &lw->devs[i];

		if (d->mark != gen || d->vf >= 0 || ifindex_map_get(&lw->related, d->ifindex, NULL))
			continue;
		if (ifindex_map_put(&lw->related, d->ifindex, 1) < 0) {
			lw->error = lw->error ? lw->error : -ENOMEM;
			continue;
		}
		if (d->via_master && !lw->resyncing)
			lw->resync_due = true;
		if (lw->related_cb)
			lw->related_cb(lw->related_userdata, d->ifindex, true);
	}
	/* leavers, in rounds: the map cannot be changed while it is walked */
	do {
		n_gone = 0;
		for (size_t i = 0; i < lw->related.cap && n_gone < 64; i++) {
			int ifindex = lw->related.entries[i].ifindex;
			const struct dev *d = ifindex ? find_dev(lw, ifindex) : NULL;

			if (ifindex && (!d || d->mark != gen || d->vf >= 0))
				gone[n_gone++] = ifindex;
		}
		for (size_t i = 0; i < n_gone; i++) {
			ifindex_map_del(&lw->related, gone[i]);
			if (lw->related_cb)
				lw->related_cb(lw->related_userdata, gone[i], false);
		}
	} while (n_gone == 64);
}

static void evaluate(struct link_watch *lw)
{
	if (lw->deferred)
		return;
	compute_related(lw);
	compute_verdicts(lw);
	for (size_t i = 0; i < lw->n_vfs; i++) {
		struct vf *v = &lw->vfs[i];
		struct link_watch_verdict verdict;
		bool busy = (v->new_uses & ~VFPOOL_HOST_USE_UP) ||
			    ((v->new_uses & VFPOOL_HOST_USE_UP) && lw->busy_when_up);

		if (busy == v->busy && v->new_uses == v->uses &&
		    strcmp(v->new_reason, v->reason) == 0)
			continue;
		v->busy = busy;
		v->uses = v->new_uses;
		memcpy(v->reason, v->new_reason, sizeof(v->reason));
		lw->stats.transitions++;
		verdict = (struct link_watch_verdict){ .busy = busy, .uses = v->uses,
						       .reason = v->reason };
		if (lw->cb)
			lw->cb(lw->userdata, v->slot, &verdict);
	}
}

/* ---- messages ------------------------------------------------------------------------ */

static void copy_kind(char dst[KIND_MAX], const char *src)
{
	snprintf(dst, KIND_MAX, "%s", src ? src : "");
}

static bool is_vf_or_related(const struct link_watch *lw, const struct dev *d)
{
	return d->vf >= 0 || ifindex_map_get(&lw->related, d->ifindex, NULL);
}

static void apply_newlink(struct link_watch *lw, struct rtnl_link *link, bool from_dump)
{
	int ifindex = rtnl_link_get_ifindex(link);
	const char *kind = rtnl_link_get_type(link), *slave = rtnl_link_get_slave_type(link);
	const char *name = rtnl_link_get_name(link);
	int lower = rtnl_link_get_link(link), master = rtnl_link_get_master(link);
	unsigned flags = rtnl_link_get_flags(link);
	int32_t nsid;
	struct dev *d = find_dev(lw, ifindex);

	/* an IFLA_LINK in another namespace (a peer or lower moved away) is not ours */
	if (rtnl_link_get_link_netnsid(link, &nsid) == 0)
		lower = 0;
	if (lower == ifindex)
		lower = 0;
	if (!d) {
		if (!kind_kept(kind ? kind : ""))
			return;
		d = dev_add(lw, ifindex);
		if (!d)
			return;
	}
	d->seen = lw->seen_gen;
	if (name)
		snprintf(d->name, sizeof(d->name), "%s", name);
	if (d->link != lower || strcmp(d->kind, kind ? kind : "") != 0) {
		d->link = lower;
		copy_kind(d->kind, kind);
		d->since = ++lw->clock;
	}
	if (d->master != master) {
		d->master = master;
		d->master_since = ++lw->clock;
	}
	copy_kind(d->slave_kind, slave);
	if (!from_dump && (d->flags & IFF_UP) && !(flags & IFF_UP))
		routes_drop(lw, ifindex);
	d->flags = flags;

	/* A master not seen yet (created after the last dump, its messages not ours until now):
	 * known by the kind the kernel states for it and its name here, until its own message
	 * or the next resync says more. */
	if (master && !find_dev(lw, master) && is_vf_or_related(lw, d) &&
	    master_use(d->slave_kind) != MASTER_NONE) {
		char mname[IFNAMSIZ], mkind[KIND_MAX];
		struct dev *m;

		memcpy(mkind, d->slave_kind, sizeof(mkind)); /* dev_add may move d */
		if (!if_indextoname((unsigned)master, mname))
			mname[0] = '\0';
		m = dev_add(lw, master);
		if (m) {
			memcpy(m->kind, mkind, sizeof(m->kind));
			snprintf(m->name, sizeof(m->name), "%s", mname);
		}
	}
}

static void apply_dellink(struct link_watch *lw, int ifindex)
{
	struct dev *d = find_dev(lw, ifindex);

	routes_drop(lw, ifindex);
	addrs_drop(lw, ifindex);
	if (!d)
		return;
	/* what sat on it went with it (the kernel unregisters stacked devices first) */
	for (size_t i = lw->n_devs; i-- > 0;) {
		struct dev *o = &lw->devs[i];

		if (o->master == ifindex) {
			o->master = 0;
			o->slave_kind[0] = '\0';
		}
		if (o->link == ifindex && kind_stacks(o->kind) && o->vf < 0) {
			routes_drop(lw, o->ifindex);
			dev_remove(lw, o);
		}
	}
	d = find_dev(lw, ifindex); /* the removals may have moved it */
	if (d->vf >= 0)
		dev_forget(d);
	else
		dev_remove(lw, d);
}

static bool link_local_v6(const struct addr *a)
{
	return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

static bool multicast(const struct addr *a)
{
	return (a->family == AF_INET && (a->bytes[0] & 0xf0) == 0xe0) ||
	       (a->family == AF_INET6 && a->bytes[0] == 0xff);
}

static void apply_addr(struct link_watch *lw, struct rtnl_addr *ra, bool del)
{
	struct addr a = { .ifindex = rtnl_addr_get_ifindex(ra) };
	struct nl_addr *local = rtnl_addr_get_local(ra);
	unsigned len;

	if (!find_vf(lw, a.ifindex) || !local)
		return;
	a.family = (uint8_t)nl_addr_get_family(local);
	len = nl_addr_get_len(local);
	if ((a.family != AF_INET || len != 4) && (a.family != AF_INET6 || len != 16))
		return;
	a.len = (uint8_t)len;
	memcpy(a.bytes, nl_addr_get_binary_addr(local), len);
	a.prefixlen = (uint8_t)rtnl_addr_get_prefixlen(ra);
	if (link_local_v6(&a) || multicast(&a))
		return;
	for (size_t i = 0; i < lw->n_addrs; i++) {
		struct addr *o = &lw->addrs[i];

		if (o->ifindex != a.ifindex || o->family != a.family ||
		    o->prefixlen != a.prefixlen || memcmp(o->bytes, a.bytes, a.len) != 0)
			continue;
		if (del)
			lw->addrs[i] = lw->addrs[--lw->n_addrs];
		else
			o->seen = lw->seen_gen; /* a lifetime update, or the dump agreeing */
		return;
	}
	if (del)
		return;
	if (grow((void **)&lw->addrs, &lw->cap_addrs, lw->n_addrs, sizeof(a)) < 0) {
		lw->error = lw->error ? lw->error : -ENOMEM;
		return;
	}
	a.since = ++lw->clock;
	a.seen = lw->seen_gen;
	lw->addrs[lw->n_addrs++] = a;
}

static bool route_same_key(const struct route *a, const struct route *b)
{
	return a->family == b->family && a->priority == b->priority && a->tos == b->tos;
}

static bool route_same(const struct route *a, const struct route *b)
{
	return route_same_key(a, b) && a->oif == b->oif && a->gw_len == b->gw_len &&
	       memcmp(a->gw, b->gw, a->gw_len) == 0;
}

static void apply_route(struct link_watch *lw, struct rtnl_route *rr, bool del)
{
	struct nl_addr *dst = rtnl_route_get_dst(rr), *src = rtnl_route_get_src(rr);
	struct route key = { .family = rtnl_route_get_family(rr), .tos = rtnl_route_get_tos(rr),
			     .priority = rtnl_route_get_priority(rr) };
	int n = rtnl_route_get_nnexthops(rr);

	if ((key.family != AF_INET && key.family != AF_INET6) ||
	    rtnl_route_get_table(rr) != RT_TABLE_MAIN || !dst || nl_addr_get_prefixlen(dst) != 0 ||
	    (src && nl_addr_get_prefixlen(src) != 0))
		return;
	if (!del && (lw->msg_flags & NLM_F_REPLACE)) {
		for (size_t i = lw->n_routes; i-- > 0;)
			if (route_same_key(&lw->routes[i], &key))
				lw->routes[i] = lw->routes[--lw->n_routes];
	}
	for (int k = 0; k < n; k++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rr, k);
		struct nl_addr *gw = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
		struct route r = key;
		bool found = false;

		if (!nh || rtnl_route_nh_get_ifindex(nh) <= 0)
			continue;
		r.oif = rtnl_route_nh_get_ifindex(nh);
		if (gw && nl_addr_get_len(gw) <= sizeof(r.gw)) {
			r.gw_len = (uint8_t)nl_addr_get_len(gw);
			memcpy(r.gw, nl_addr_get_binary_addr(gw), r.gw_len);
		}
		for (size_t i = 0; i < lw->n_routes && !found; i++) {
			if (!route_same(&lw->routes[i], &r))
				continue;
			found = true;
			if (del)
				lw->routes[i] = lw->routes[--lw->n_routes];
		}
		if (found || del)
			continue;
		if (grow((void **)&lw->routes, &lw->cap_routes, lw->n_routes, sizeof(r)) < 0) {
			lw->error = lw->error ? lw->error : -ENOMEM;
			return;
		}
		lw->routes[lw->n_routes++] = r;
	}
}

struct parse_ctx {
	struct link_watch *lw;
	bool from_dump;
};

static void parse_cb(struct nl_object *obj, void *arg)
{
	struct parse_ctx *pc = arg;
	struct link_watch *lw = pc->lw;
	int type = nl_object_get_msgtype(obj);

	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		struct rtnl_link *link = (struct rtnl_link *)obj;

		/* AF_BRIDGE port messages repeat what the AF_UNSPEC ones say, and their
		 * RTM_DELLINK means "left the bridge", not "gone". */
		if (lw->msg_family != AF_UNSPEC)
			return;
		if (type == RTM_DELLINK)
			apply_dellink(lw, rtnl_link_get_ifindex(link));
		else
			apply_newlink(lw, link, pc->from_dump);
		break;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR:
		apply_addr(lw, (struct rtnl_addr *)obj, type == RTM_DELADDR);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		apply_route(lw, (struct rtnl_route *)obj, type == RTM_DELROUTE);
		break;
	default:
		return;
	}
	lw->stats.decoded++;
}

static bool handled_type(int type)
{
	switch (type) {
	case RTM_NEWLINK: case RTM_DELLINK:
	case RTM_NEWADDR: case RTM_DELADDR:
	case RTM_NEWROUTE: case RTM_DELROUTE:
		return true;
	default:
		return false;
	}
}

/* Decodes one message into the tables; 0 or the first error of the callbacks. */
static int decode(struct link_watch *lw, struct nl_msg *msg, bool from_dump)
{
	struct parse_ctx pc = { .lw = lw, .from_dump = from_dump };
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int r;

	lw->msg_flags = nlh->nlmsg_flags;
	lw->msg_family = AF_UNSPEC;
	if ((nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) &&
	    nlmsg_valid_hdr(nlh, sizeof(struct ifinfomsg)))
		lw->msg_family = ((struct ifinfomsg *)nlmsg_data(nlh))->ifi_family;
	lw->error = 0;
	r = nl_msg_parse(msg, parse_cb, &pc);
	if (r < 0) {
		lw->stats.decode_errors++;
		return 0; /* one undecodable message must not stop the rest */
	}
	return lw->error;
}

static int feed_one(struct link_watch *lw, struct nlmsghdr *nlh)
{
	struct nl_msg *msg;
	int r;

	if (!handled_type(nlh->nlmsg_type))
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
	r = decode(lw, msg, false);
	nlmsg_free(msg);
	evaluate(lw);
	return r ? r : lw->error;
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

/* ---- resync -------------------------------------------------------------------------- */

static void on_dumped(void *ctx, struct nl_msg *msg)
{
	struct link_watch *lw = ctx;
	int r;

	if (!handled_type(nlmsg_hdr(msg)->nlmsg_type))
		return;
	r = decode(lw, msg, true);
	if (r < 0 && lw->dump_error == 0)
		lw->dump_error = r;
}

/* One consistent pass: every link, the tracked VFs' addresses, the main table's routes.
 * -EINTR when a dump was interrupted by a change. */
static int dump_all(struct link_watch *lw, struct nl_sock *sk)
{
	static const struct { int type, family; } dumps[] = {
		{ RTM_GETLINK, AF_UNSPEC },
		{ RTM_GETADDR, AF_UNSPEC },
		{ RTM_GETROUTE, AF_INET },
		{ RTM_GETROUTE, AF_INET6 },
	};
	int r, first = 0;

	lw->n_routes = 0; /* no identity to keep: the dump lists them all */
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		lw->dump_error = 0;
		r = link_dump(sk, dumps[i].type, dumps[i].family, RT_TABLE_MAIN, on_dumped, lw);
		/* a kernel without IPv6 has no IPv6 routes to dump */
		if (r == -EAFNOSUPPORT && dumps[i].family == AF_INET6)
			r = 0;
		if (r == 0)
			r = lw->dump_error;
		if (r == -EINTR && first == 0)
			first = -EINTR; /* finish the pass; the caller does it again */
		else if (r < 0)
			return r;
	}
	return first;
}

/* After a complete pass: what the dump did not show is gone. */
static void sweep(struct link_watch *lw)
{
	for (size_t i = lw->n_devs; i-- > 0;) {
		struct dev *d = &lw->devs[i];

		if (d->seen == lw->seen_gen)
			continue;
		if (d->vf >= 0)
			dev_forget(d);
		else
			dev_remove(lw, d);
	}
	for (size_t i = lw->n_addrs; i-- > 0;)
		if (lw->addrs[i].seen != lw->seen_gen)
			lw->addrs[i] = lw->addrs[--lw->n_addrs];
}

int link_watch_resync(struct link_watch *lw, struct nl_sock *dump_sock)
{
	struct nl_sock *own = NULL;
	int r;

	if (!dump_sock) {
		r = link_dump_socket(&own);
		if (r < 0)
			return r;
		dump_sock = own;
	}
	/* Replay the dumps over what is known (a holder that stays keeps its age, so the
	 * reasons do not shuffle), without reporting; then report each VF whose verdict
	 * differs from what was last reported. A dump that races with changes is asked
	 * again. */
	lw->deferred = true;
	for (int attempt = 0; attempt < 5; attempt++) {
		lw->seen_gen++;
		r = dump_all(lw, dump_sock);
		if (r != -EINTR)
			break;
	}
	if (r == 0)
		sweep(lw);
	lw->deferred = false;
	lw->resyncing = true;
	lw->error = 0;
	evaluate(lw);
	lw->resyncing = false;
	lw->resync_due = false;
	if (r == 0 && lw->error)
		r = lw->error;
	lw->stats.resyncs++;
	nl_socket_free(own);
	return r;
}

bool link_watch_resync_due(const struct link_watch *lw)
{
	return lw->resync_due;
}

/* ---- the rest of the API ------------------------------------------------------------- */

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
	ifindex_map_free(&lw->dev_index);
	ifindex_map_free(&lw->related);
	free(lw->vfs);
	free(lw->devs);
	free(lw->addrs);
	free(lw->routes);
	free(lw);
}

void link_watch_set_filter(struct link_watch *lw, link_watch_filter filter, void *ctx)
{
	lw->filter = filter;
	lw->filter_ctx = ctx;
}

void link_watch_set_related_cb(struct link_watch *lw, link_watch_related_cb cb, void *userdata)
{
	lw->related_cb = cb;
	lw->related_userdata = userdata;
}

void link_watch_set_busy_when_up(struct link_watch *lw, bool busy_when_up)
{
	lw->busy_when_up = busy_when_up;
}

int link_watch_track_vf(struct link_watch *lw, int ifindex, uint32_t slot)
{
	struct dev *d;
	int r;

	if (ifindex <= 0)
		return -EINVAL;
	if (find_vf(lw, ifindex))
		return -EEXIST;
	r = grow((void **)&lw->vfs, &lw->cap_vfs, lw->n_vfs, sizeof(*lw->vfs));
	if (r < 0)
		return r;
	d = find_dev(lw, ifindex);
	if (!d) {
		lw->error = 0;
		d = dev_add(lw, ifindex);
		if (!d)
			return -ENOMEM;
	}
	r = ifindex_map_put(&lw->vf_index, ifindex, (uint32_t)lw->n_vfs);
	if (r < 0)
		return r;
	d->vf = (int32_t)lw->n_vfs;
	lw->vfs[lw->n_vfs++] = (struct vf){ .ifindex = ifindex, .slot = slot };
	return 0;
}

int link_watch_untrack_vf(struct link_watch *lw, int ifindex)
{
	struct vf *v = find_vf(lw, ifindex);
	struct dev *d = find_dev(lw, ifindex);
	size_t i;

	if (!v)
		return -ENOENT;
	addrs_drop(lw, ifindex);
	if (d) {
		if (kind_kept(d->kind))
			d->vf = -1;
		else
			dev_remove(lw, d);
	}
	i = (size_t)(v - lw->vfs);
	ifindex_map_del(&lw->vf_index, ifindex);
	if (i != lw->n_vfs - 1) {
		lw->vfs[i] = lw->vfs[lw->n_vfs - 1];
		ifindex_map_put(&lw->vf_index, lw->vfs[i].ifindex, (uint32_t)i); /* exists */
		d = find_dev(lw, lw->vfs[i].ifindex);
		if (d)
			d->vf = (int32_t)i;
	}
	lw->n_vfs--;
	if (!lw->deferred)
		compute_related(lw);
	return 0;
}

int link_watch_vf_state(const struct link_watch *lw, int ifindex, bool *ret_busy,
			uint32_t *ret_uses, char reason[LINK_WATCH_REASON_MAX])
{
	const struct vf *v = find_vf(lw, ifindex);

	if (!v)
		return -ENOENT;
	if (ret_busy)
		*ret_busy = v->busy;
	if (ret_uses)
		*ret_uses = v->uses;
	if (reason)
		memcpy(reason, v->reason, LINK_WATCH_REASON_MAX);
	return 0;
}

void link_watch_get_stats(const struct link_watch *lw, struct link_watch_stats *ret_stats)
{
	*ret_stats = lw->stats;
}
