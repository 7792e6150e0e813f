/* SPDX-License-Identifier: MIT */
/* vfpoolctl lease list [--vm VM]: every lease in the snapshot (one read, no daemon call). */
#include <stdio.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"

static void print_json_lease(const struct vfpool_vf_info *v, const struct vfpool_pf_info *p)
{
	printf("{\"vm\":");
	ctl_json_str(stdout, v->vm_id);
	printf(",\"vnic\":");
	ctl_json_str(stdout, v->vnic_id);
	printf(",\"network\":");
	ctl_json_str(stdout, v->network);
	printf(",\"pci\":");
	ctl_json_str(stdout, v->pci_addr);
	printf(",\"netdev\":");
	ctl_json_str(stdout, v->netdev);
	printf(",\"pf\":");
	ctl_json_str(stdout, p->netdev);
	printf(",\"vf\":%u,\"iommu_group\":%d,\"numa_node\":%d,\"generation\":%llu}", v->vf_index,
	       v->iommu_group, v->numa_node, (unsigned long long)v->generation);
}

/* Column widths: the longest value or the header, so every row lines up. */
struct widths {
	int vm, vnic, network, pci, netdev, pf;
};

static int max_len(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static bool selected(const struct vfpool_vf_info *v, const char *vm)
{
	return v->status == VFPOOL_VF_STATUS_LEASED && (!vm || strcmp(v->vm_id, vm) == 0);
}

static void measure(const struct vfpool_snapshot *s, const char *vm, struct widths *w)
{
	*w = (struct widths){ 2, 4, 7, 3, 6, 2 };
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		vfpool_snapshot_vf(s, i, &v);
		if (!selected(&v, vm))
			continue;
		vfpool_snapshot_pf(s, v.pf_index, &p);
		w->vm = max_len(w->vm, v.vm_id);
		w->vnic = max_len(w->vnic, v.vnic_id);
		w->network = max_len(w->network, v.network);
		w->pci = max_len(w->pci, v.pci_addr);
		w->netdev = max_len(w->netdev, v.netdev);
		w->pf = max_len(w->pf, p.netdev);
	}
}

int cmd_lease(const struct ctl_opts *o)
{
	struct widths w;
	const char *vm = NULL;
	struct vfpool_snapshot *s;
	unsigned n = 0;
	int r;

	if (o->argc < 1 || strcmp(o->argv[0], "list") != 0) {
		fprintf(stderr, "usage: vfpoolctl lease list [--vm VM] [--json]\n");
		return CTL_EXIT_USAGE;
	}
	for (int i = 1; i < o->argc; i++) {
		if (strcmp(o->argv[i], "--vm") == 0 && i + 1 < o->argc) {
			vm = o->argv[++i];
		} else {
			fprintf(stderr, "usage: vfpoolctl lease list [--vm VM] [--json]\n");
			return CTL_EXIT_USAGE;
		}
	}
	r = vfpool_snapshot_take(o->run_dir, &s);
	if (r) {
		fprintf(stderr, "vfpoolctl lease: %s/state: %s\n", o->run_dir, vfpool_strerror(r));
		return CTL_EXIT_FAIL;
	}
	measure(s, vm, &w);
	if (o->json)
		printf("[");
	else
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w.vm, "VM", w.vnic, "VNIC",
		       w.network, "NETWORK", w.pci, "PCI", w.netdev, "NETDEV", w.pf, "PF",
		       "GENERATION");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		vfpool_snapshot_vf(s, i, &v);
		if (!selected(&v, vm))
			continue;
		vfpool_snapshot_pf(s, v.pf_index, &p);
		if (o->json) {
			printf("%s\n ", n ? "," : "");
			print_json_lease(&v, &p);
		} else {
			printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %llu\n", w.vm, v.vm_id, w.vnic,
			       v.vnic_id, w.network, v.network, w.pci, v.pci_addr, w.netdev, v.netdev,
			       w.pf, p.netdev, (unsigned long long)v.generation);
		}
		n++;
	}
	if (o->json)
		printf("]\n");
	vfpool_snapshot_free(s);
	return CTL_EXIT_OK;
}
