/* SPDX-License-Identifier: MIT */
/* vfpoolctl capacity: per network, free VFs per allowed PF and per NUMA node, computed from
 * one snapshot of the state segment (no round trip to the daemon). */
#include <stdio.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"

#define MAX_NODES 64

static int has_pf(const struct vfpool_network_info *n, unsigned pf)
{
	return pf < 256 && (n->pf_allowed[pf / 64] >> (pf % 64)) & 1;
}

static void print_network(const struct vfpool_snapshot *s, const struct vfpool_network_info *n,
			  bool json, bool first)
{
	unsigned per_node[MAX_NODES] = { 0 }, total = 0, other = 0, npf = 0;

	if (json)
		fprintf(stdout, "%s\n  {\"network\":\"%s\",\"pfs\":[", first ? "" : ",", n->name);
	else
		printf("%s:", n->name);
	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);

		if (!has_pf(n, p) || vfpool_snapshot_pf(s, p, &pf))
			continue;
		if (json)
			printf("%s{\"pf\":\"%s\",\"numa_node\":%d,\"free\":%u}", npf ? "," : "",
			       pf.netdev[0] ? pf.netdev : pf.pci_addr, pf.numa_node, pf.free);
		else
			printf(" %s=%u", pf.netdev[0] ? pf.netdev : pf.pci_addr, pf.free);
		npf++;
		total += pf.free;
		if (pf.numa_node >= 0 && pf.numa_node < MAX_NODES)
			per_node[pf.numa_node] += pf.free;
		else
			other += pf.free;
	}
	if (json) {
		printf("],\"numa\":{");
		for (unsigned k = 0, c = 0; k < MAX_NODES; k++)
			if (per_node[k])
				printf("%s\"%u\":%u", c++ ? "," : "", k, per_node[k]);
		printf("},\"free\":%u}", total);
		return;
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

int cmd_capacity(const struct ctl_opts *o)
{
	struct vfpool_snapshot *s;
	const char *only = NULL;
	bool first = true, found = false;
	int r;

	for (int i = 0; i < o->argc; i++) {
		if (strcmp(o->argv[i], "--network") == 0 && i + 1 < o->argc) {
			only = o->argv[++i];
		} else {
			fprintf(stderr, "vfpoolctl capacity: unexpected argument %s\n", o->argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	r = vfpool_snapshot_take(o->run_dir, &s);
	if (r) {
		fprintf(stderr, "vfpoolctl capacity: %s: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	if (o->json)
		printf("{\"networks\":[");
	for (unsigned i = 0; i < vfpool_snapshot_network_count(s); i++) {
		struct vfpool_network_info n = VFPOOL_OPTS(vfpool_network_info);

		if (vfpool_snapshot_network(s, i, &n) || (only && strcmp(n.name, only) != 0))
			continue;
		print_network(s, &n, o->json, first);
		first = false;
		found = true;
	}
	if (o->json)
		printf("\n]}\n");
	vfpool_snapshot_free(s);
	if (only && !found) {
		fprintf(stderr, "vfpoolctl capacity: network %s: not defined\n", only);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}
