/* SPDX-License-Identifier: MIT */
/* vfpoolctl pf list | pf show PF: the PFs from the snapshot. Other `pf` subcommands (set,
 * ...) are the daemon's and are passed to it unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/host_use.h"
#include "shm/layout.h"

static int take(const struct ctl_opts *o, struct vfpool_snapshot **s)
{
	return ctl_snapshot_take(o, "pf", s);
}

static int pf_list(const struct ctl_opts *o)
{
	struct vfpool_snapshot *s;

	if (o->argc != 1) {
		fprintf(stderr, "usage: vfpoolctl pf list [--json]\n");
		return CTL_EXIT_USAGE;
	}
	if (take(o, &s))
		return CTL_EXIT_FAIL;
	if (o->json) {
		printf("[");
		for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
			struct vfpool_pf_info p;

			vfpool_snapshot_pf(s, i, &p);
			printf("%s\n ", i ? "," : "");
			snapshot_print_pf_json(stdout, i, &p);
		}
		printf("]\n");
	} else {
		snapshot_print_pf_table(stdout, s);
	}
	vfpool_snapshot_free(s);
	return CTL_EXIT_OK;
}

/* A PF named by netdev, PCI address or index, as the table shows all three. */
static int find_pf(const struct vfpool_snapshot *s, const char *name, unsigned *ret_index,
		   struct vfpool_pf_info *ret_info)
{
	char *end;
	unsigned long idx = strtoul(name, &end, 10);

	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
		struct vfpool_pf_info p;

		vfpool_snapshot_pf(s, i, &p);
		if (strcmp(p.netdev, name) == 0 || strcmp(p.pci_addr, name) == 0 ||
		    (end != name && !*end && idx == i)) {
			*ret_index = i;
			*ret_info = p;
			return 0;
		}
	}
	return -1;
}

/* " (1 bond_member, 2 address)": the PF's host-busy VFs by how the host uses them (a VF
 * counts once per use, leased or not, as in the host-busy count); and "; 1 up on the host,
 * not leased (allocatable)" for the free VFs that are up. */
static void print_host_uses(const struct vfpool_snapshot *s, unsigned index)
{
	unsigned n[CTL_HOST_USE_NR] = { 0 }, up_free = 0;
	const char *sep = " (";

	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v;

		vfpool_snapshot_vf(s, i, &v);
		if (v.pf_index != index || v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		if (v.status == VFPOOL_VF_STATUS_FREE && v.host_use == VFPOOL_VF_USE_UP)
			up_free++;
		if (!(v.blocked_mask & (1u << VFPOOL_BLOCK_HOST_BUSY)))
			continue;
		for (unsigned k = 0; k < CTL_HOST_USE_NR; k++)
			n[k] += (v.host_use >> k) & 1;
	}
	for (unsigned k = 0; k < CTL_HOST_USE_NR; k++) {
		if (!n[k])
			continue;
		printf("%s%u %s", sep, n[k], ctl_host_use_name(k));
		sep = ", ";
	}
	if (sep[0] == ',')
		putchar(')');
	if (up_free)
		printf("; %u up on the host, not leased (allocatable)", up_free);
}

static void show_text(const struct vfpool_snapshot *s, unsigned index,
		      const struct vfpool_pf_info *p)
{
	printf("%-13s %u\n%-13s %s\n%-13s %s\n%-13s %s\n%-13s %04x:%04x\n%-13s %d\n", "index:",
	       index, "pci:", p->pci_addr, "netdev:", p->netdev, "driver:", p->driver, "id:",
	       p->vendor, p->device, "numa node:", p->numa_node);
	printf("%-13s %u total, %u existing, %u free, %u leased\n", "vfs:", p->total_vfs,
	       p->existing, p->free, p->leased);
	printf("%-13s %u host-busy", "blocked:", p->host_busy);
	print_host_uses(s, index);
	printf(", %u iommu-shared, %u bound-other, %u dirty\n", p->iommu_shared, p->bound_other,
	       p->dirty);
	printf("\n%-12s %-14s %-4s %-12s %s\n", "VF", "NETDEV", "VF#", "STATE", "LEASE / REASON");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v;

		vfpool_snapshot_vf(s, i, &v);
		if (v.pf_index != index || v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		printf("%-12s %-14s %-4u %-12s ", v.pci_addr, v.netdev, v.vf_index,
		       vfpool_vf_status_name(v.status));
		if (v.status == VFPOOL_VF_STATUS_LEASED)
			printf("%s/%s network=%s gen=%llu\n", v.vm_id, v.vnic_id, v.network,
			       (unsigned long long)v.generation);
		else
			printf("%s\n", v.reason);
	}
}

static void show_json(const struct vfpool_snapshot *s, unsigned index,
		      const struct vfpool_pf_info *p)
{
	bool first = true;

	printf("{\"pf\":");
	snapshot_print_pf_json(stdout, index, p);
	printf(",\n \"vfs\":[");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v;

		vfpool_snapshot_vf(s, i, &v);
		if (v.pf_index != index || v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		printf("%s\n  {\"pci\":", first ? "" : ",");
		first = false;
		ctl_json_str(stdout, v.pci_addr);
		printf(",\"netdev\":");
		ctl_json_str(stdout, v.netdev);
		printf(",\"vf\":%u,\"state\":\"%s\"", v.vf_index, vfpool_vf_status_name(v.status));
		if (v.reason[0]) {
			printf(",\"reason\":");
			ctl_json_str(stdout, v.reason);
		}
		if (v.host_use) {
			printf(",\"host_use\":");
			ctl_host_use_json(stdout, v.host_use);
		}
		if (v.status == VFPOOL_VF_STATUS_LEASED) {
			printf(",\"vm\":");
			ctl_json_str(stdout, v.vm_id);
			printf(",\"vnic\":");
			ctl_json_str(stdout, v.vnic_id);
			printf(",\"network\":");
			ctl_json_str(stdout, v.network);
			printf(",\"generation\":%llu", (unsigned long long)v.generation);
		}
		printf("}");
	}
	printf("]}\n");
}

static int pf_show(const struct ctl_opts *o)
{
	struct vfpool_snapshot *s;
	struct vfpool_pf_info p;
	unsigned index;
	int status = CTL_EXIT_OK;

	if (o->argc != 2) {
		fprintf(stderr, "usage: vfpoolctl pf show PF [--json]   (PF: netdev, PCI address or index)\n");
		return CTL_EXIT_USAGE;
	}
	if (take(o, &s))
		return CTL_EXIT_FAIL;
	if (find_pf(s, o->argv[1], &index, &p)) {
		fprintf(stderr, "vfpoolctl pf show: %s: no such PF on this host\n", o->argv[1]);
		status = CTL_EXIT_FAIL;
	} else if (o->json) {
		show_json(s, index, &p);
	} else {
		show_text(s, index, &p);
	}
	vfpool_snapshot_free(s);
	return status;
}

int cmd_pf(const struct ctl_opts *o)
{
	char *words[VFPOOL_CTL_ARGS_MAX];
	struct ctl_opts fwd = *o;

	if (o->argc >= 1 && strcmp(o->argv[0], "list") == 0)
		return pf_list(o);
	if (o->argc >= 1 && strcmp(o->argv[0], "show") == 0)
		return pf_show(o);
	/* the daemon's pf commands: give it back the word main took off */
	if (o->argc + 1 > VFPOOL_CTL_ARGS_MAX) {
		fprintf(stderr, "vfpoolctl pf: more than %d arguments\n", VFPOOL_CTL_ARGS_MAX - 1);
		return CTL_EXIT_USAGE;
	}
	words[0] = "pf";
	memcpy(&words[1], o->argv, (size_t)o->argc * sizeof(char *));
	fwd.argv = words;
	fwd.argc = o->argc + 1;
	return cmd_daemon(&fwd);
}
