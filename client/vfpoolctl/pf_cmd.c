/* SPDX-License-Identifier: MIT */
/* vfpoolctl pf list | pf show PF: the PFs from the snapshot; pf show adds the PF's VFs
 * config (all networks, its networks and labels) from the daemon, which alone has it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_table.h"
#include "client/vfpoolctl/format_text.h"
#include "client/vfpoolctl/host_use.h"
#include "shm/layout.h"

int cmd_pf_list(struct ctl *c)
{
	struct vfpool_snapshot *s;
	int r = ctl_snapshot(c, &s);

	if (r)
		return r;
	if (c->json) {
		struct json_object *a = json_object_new_array();

		for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
			struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

			if (vfpool_snapshot_pf(s, i, &p) == 0)
				json_object_array_add(a, snapshot_pf_json(i, &p));
		}
		r = ctl_json_print(stdout, a);
	} else {
		snapshot_print_pf_table(stdout, s);
	}
	vfpool_snapshot_free(s);
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* A PF named by netdev, PCI address or index, as the table shows all three. */
static int find_pf(const struct vfpool_snapshot *s, const char *name, unsigned *ret_index,
		   struct vfpool_pf_info *ret_info)
{
	unsigned idx;
	bool is_index = ctl_parse_uint(name, 0, ~0u, &idx) == 0;

	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_pf(s, i, &p))
			continue;
		if (strcmp(p.netdev, name) == 0 || strcmp(p.pci_addr, name) == 0 ||
		    (is_index && idx == i)) {
			*ret_index = i;
			*ret_info = p;
			return 0;
		}
	}
	return -ENODEV;
}

/* " (1 bond_member, 2 address)": the PF's host-busy VFs by how the host uses them (a VF
 * counts once per use, leased or not, as in the host-busy count); and "; 1 up on the host,
 * not leased (allocatable)" for the free VFs that are up. */
static void print_host_uses(const struct vfpool_snapshot *s, unsigned index)
{
	unsigned n[CTL_HOST_USE_NR] = { 0 }, up_free = 0;
	const char *sep = " (";

	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) || v.pf_index != index ||
		    v.status == VFPOOL_VF_STATUS_ABSENT)
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
		      const struct vfpool_pf_info *p, int cfg_status, const char *cfg)
{
	char buf[3][128];
	struct table t;

	printf("%-13s %u\n%-13s %s\n%-13s %s\n%-13s %s\n%-13s %04x:%04x\n%-13s %d\n", "index:",
	       index, "pci:", ctl_text(buf[0], sizeof(buf[0]), p->pci_addr), "netdev:",
	       ctl_text(buf[1], sizeof(buf[1]), p->netdev), "driver:",
	       ctl_text(buf[2], sizeof(buf[2]), p->driver), "id:", p->vendor, p->device,
	       "numa node:", p->numa_node);
	printf("%-13s %u total, %u existing, %u free, %u leased\n", "vfs:", p->total_vfs,
	       p->existing, p->free, p->leased);
	printf("%-13s %u host-busy", "blocked:", p->host_busy);
	print_host_uses(s, index);
	printf(", %u iommu-shared, %u bound-other, %u dirty\n", p->iommu_shared, p->bound_other,
	       p->dirty);
	/* the daemon's words for the VFs config, as it sent them */
	printf("\nVFs config (from vfpoold):\n");
	for (const char *l = cfg; *l;) {
		size_t n = strcspn(l, "\n");
		char line[256], out[1024];

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		printf("  %s\n", ctl_text(out, sizeof(out), line));
		l += n + (l[n] == '\n');
	}
	if (cfg_status < 0 && !*cfg)
		printf("  (%s)\n", vfpool_strerror(cfg_status));
	printf("\n");
	table_init(&t, "llrll", "VF", "NETDEV", "VF#", "STATE", "LEASE / REASON");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) || v.pf_index != index ||
		    v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		table_cell(&t, v.pci_addr);
		table_cell(&t, v.netdev);
		table_cellf(&t, "%u", v.vf_index);
		table_cell(&t, vfpool_vf_status_name(v.status));
		if (v.status == VFPOOL_VF_STATUS_LEASED)
			table_cellf(&t, "%.*s/%.*s network=%.*s gen=%llu", VFPOOL_VM_ID_LEN, v.vm_id,
				    VFPOOL_VNIC_ID_LEN, v.vnic_id, VFPOOL_NETWORK_LEN, v.network,
				    (unsigned long long)v.generation);
		else
			table_cell(&t, v.reason);
	}
	table_print(stdout, &t, 0, 0);
	table_free(&t);
}

static struct json_object *show_json(const struct vfpool_snapshot *s, unsigned index,
				     const struct vfpool_pf_info *p, int cfg_status,
				     const char *cfg)
{
	struct json_object *o = json_object_new_object(), *vfs = json_object_new_array();
	struct json_object *config = json_tokener_parse(cfg);

	json_object_object_add(o, "pf", snapshot_pf_json(index, p));
	/* the daemon's structured reply, {"status", "message", "data"}; one that answered
	 * text (or did not answer) is wrapped with no data */
	if (!config || !json_object_is_type(config, json_type_object) ||
	    !json_object_object_get_ex(config, "message", NULL)) {
		json_object_put(config);
		config = json_object_new_object();
		json_object_object_add(config, "status", json_object_new_int(cfg_status));
		json_object_object_add(config, "message", ctl_json_string(cfg));
		json_object_object_add(config, "data", NULL);
	}
	json_object_object_add(o, "config", config);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) || v.pf_index != index ||
		    v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		json_object_array_add(vfs, snapshot_vf_json(&v));
	}
	json_object_object_add(o, "vfs", vfs);
	return o;
}

int cmd_pf_show(struct ctl *c)
{
	struct vfpool_snapshot *s;
	struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
	const char *words[] = { "pf", "show", NULL, "--json" };
	char *cfg = NULL, buf[80];
	unsigned index;
	int r = ctl_snapshot(c, &s), cfg_status;

	if (r)
		return r;
	if (find_pf(s, c->argv[0], &index, &p)) {
		vfpool_snapshot_free(s);
		return ctl_fail(c, -ENODEV, "%s: no such PF on this host",
				ctl_text(buf, sizeof(buf), c->argv[0]));
	}
	/* the daemon knows the PF by netdev or PCI address; the index is ours */
	words[2] = p.netdev[0] ? p.netdev : p.pci_addr;
	r = ctl_daemon_ask(c, words, c->json ? 4 : 3, &cfg_status, &cfg);
	if (r)
		cfg_status = r; /* the local view stands; the config part says why it is empty */
	r = 0;
	if (c->json)
		r = ctl_json_print(stdout, show_json(s, index, &p, cfg_status, cfg ? cfg : ""));
	else
		show_text(s, index, &p, cfg_status, cfg ? cfg : "");
	free(cfg);
	vfpool_snapshot_free(s);
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
