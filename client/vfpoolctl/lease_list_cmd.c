/* SPDX-License-Identifier: MIT */
/* vfpoolctl lease list [--vm VM]: every lease in the snapshot (one read, no daemon call). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_table.h"
#include "client/vfpoolctl/format_text.h"

static struct json_object *lease_json(const struct vfpool_vf_info *v,
				      const struct vfpool_pf_info *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", ctl_json_string(v->vm_id));
	json_object_object_add(o, "vnic", ctl_json_string(v->vnic_id));
	json_object_object_add(o, "network", ctl_json_string(v->network));
	json_object_object_add(o, "pci", ctl_json_string(v->pci_addr));
	json_object_object_add(o, "netdev", ctl_json_string(v->netdev));
	json_object_object_add(o, "pf", ctl_json_string(p->netdev));
	json_object_object_add(o, "vf", json_object_new_int64(v->vf_index));
	json_object_object_add(o, "iommu_group", json_object_new_int(v->iommu_group));
	json_object_object_add(o, "numa_node", json_object_new_int(v->numa_node));
	json_object_object_add(o, "generation", json_object_new_uint64(v->generation));
	return o;
}

int cmd_lease_list(struct ctl *c)
{
	const char *vm = ctl_opt(c, "vm");
	struct json_object *list = c->json ? json_object_new_array() : NULL;
	struct vfpool_snapshot *s;
	struct table t;
	int r = ctl_snapshot(c, &s);

	if (r) {
		json_object_put(list);
		return r;
	}
	/* GENERATION left-aligned too: a script cuts the column where its header starts */
	table_init(&t, "lllllll", "VM", "VNIC", "NETWORK", "PCI", "NETDEV", "PF", "GENERATION");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_vf(s, i, &v) || v.status != VFPOOL_VF_STATUS_LEASED ||
		    (vm && strcmp(v.vm_id, vm) != 0))
			continue;
		vfpool_snapshot_pf(s, v.pf_index, &p);
		if (list) {
			json_object_array_add(list, lease_json(&v, &p));
			continue;
		}
		table_cell(&t, v.vm_id);
		table_cell(&t, v.vnic_id);
		table_cell(&t, v.network);
		table_cell(&t, v.pci_addr);
		table_cell(&t, v.netdev);
		table_cell(&t, p.netdev);
		table_cellf(&t, "%llu", (unsigned long long)v.generation);
	}
	if (list)
		r = ctl_json_print(stdout, list);
	else
		r = table_print(stdout, &t, 0, 0);
	table_free(&t);
	vfpool_snapshot_free(s);
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
