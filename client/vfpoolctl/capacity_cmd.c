/* SPDX-License-Identifier: MIT */
/* vfpoolctl capacity: per network, free VFs per allowed PF and per NUMA node, computed from
 * one snapshot of the state segment (no round trip to the daemon). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_text.h"

#define MAX_NODES 64

static int has_pf(const struct vfpool_network_info *n, unsigned pf)
{
	return pf < 256 && (n->pf_allowed[pf / 64] >> (pf % 64)) & 1;
}

static struct json_object *network_json(const struct vfpool_snapshot *s,
					const struct vfpool_network_info *n)
{
	struct json_object *o = json_object_new_object(), *pfs = json_object_new_array();
	struct json_object *numa = json_object_new_object();
	unsigned per_node[MAX_NODES] = { 0 }, total = 0;

	json_object_object_add(o, "network", ctl_json_string(n->name));
	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);
		struct json_object *jp;

		if (!has_pf(n, p) || vfpool_snapshot_pf(s, p, &pf))
			continue;
		jp = json_object_new_object();
		json_object_object_add(jp, "pf", ctl_json_string(pf.netdev[0] ? pf.netdev
									       : pf.pci_addr));
		json_object_object_add(jp, "numa_node", json_object_new_int(pf.numa_node));
		json_object_object_add(jp, "free", json_object_new_int64(pf.free));
		json_object_array_add(pfs, jp);
		total += pf.free;
		if (pf.numa_node >= 0 && pf.numa_node < MAX_NODES)
			per_node[pf.numa_node] += pf.free;
	}
	json_object_object_add(o, "pfs", pfs);
	for (unsigned k = 0; k < MAX_NODES; k++) {
		char key[12];

		if (!per_node[k])
			continue;
		snprintf(key, sizeof(key), "%u", k);
		json_object_object_add(numa, key, json_object_new_int64(per_node[k]));
	}
	json_object_object_add(o, "numa", numa);
	json_object_object_add(o, "free", json_object_new_int64(total));
	return o;
}

static void print_network(const struct vfpool_snapshot *s, const struct vfpool_network_info *n)
{
	unsigned per_node[MAX_NODES] = { 0 }, total = 0, other = 0, npf = 0;
	char buf[256];

	printf("%s:", ctl_text(buf, sizeof(buf), n->name));
	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);

		if (!has_pf(n, p) || vfpool_snapshot_pf(s, p, &pf))
			continue;
		printf(" %s=%u", ctl_text(buf, sizeof(buf), pf.netdev[0] ? pf.netdev : pf.pci_addr),
		       pf.free);
		npf++;
		total += pf.free;
		if (pf.numa_node >= 0 && pf.numa_node < MAX_NODES)
			per_node[pf.numa_node] += pf.free;
		else
			other += pf.free;
	}
	if (!npf)
		printf(" (no PF allowed)");
	printf("\n  numa:");
	for (unsigned k = 0; k < MAX_NODES; k++)
		if (per_node[k])
			printf(" node%u=%u", k, per_node[k]);
	if (other)
		printf(" unknown=%u", other);
	printf("\n  free: %u\n", total);
}

/* Free VFs on every PF, whatever the networks: what a host without networks (or without
 * any SR-IOV PF: zeros) can serve. */
static unsigned host_free(const struct vfpool_snapshot *s)
{
	unsigned total = 0;

	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_pf(s, p, &pf) == 0)
			total += pf.free;
	}
	return total;
}

int cmd_capacity(struct ctl *c)
{
	unsigned n_pfs, all_free;
	const char *only = ctl_opt(c, "network");
	struct json_object *list = NULL;
	struct vfpool_snapshot *s;
	unsigned n_nets, found = 0;
	int r = ctl_snapshot(c, &s);

	if (r)
		return r;
	n_nets = vfpool_snapshot_network_count(s);
	n_pfs = vfpool_snapshot_pf_count(s);
	all_free = host_free(s);
	if (c->json)
		list = json_object_new_array();
	for (unsigned i = 0; i < n_nets; i++) {
		struct vfpool_network_info n = VFPOOL_OPTS(vfpool_network_info);

		if (vfpool_snapshot_network(s, i, &n) || (only && strcmp(n.name, only) != 0))
			continue;
		if (list)
			json_object_array_add(list, network_json(s, &n));
		else
			print_network(s, &n);
		found++;
	}
	vfpool_snapshot_free(s);
	if (only && !found) {
		json_object_put(list);
		return ctl_fail(c, -ENOENT, "network %s: not defined", only);
	}
	if (list) {
		struct json_object *root = json_object_new_object();

		json_object_object_add(root, "networks", list);
		json_object_object_add(root, "pfs", json_object_new_int64(n_pfs));
		json_object_object_add(root, "free", json_object_new_int64(all_free));
		r = ctl_json_print(stdout, root);
	} else if (n_nets == 0) {
		/* no policy: every PF serves any network, and there is nothing to count by */
		printf("no networks are defined (vfpoolctl network add NAME); every PF serves any "
		       "network\n");
	}
	if (!list && !only)
		printf("all PFs: %u free on %u PF%s%s\n", all_free, n_pfs, n_pfs == 1 ? "" : "s",
		       n_pfs ? "" : " (no SR-IOV PF on this host)");
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
