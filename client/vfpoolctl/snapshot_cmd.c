/* SPDX-License-Identifier: MIT */
/* vfpoolctl snapshot: per-PF counts and every VF's state and lease, from one consistent
 * read of the state segment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/format_table.h"
#include "client/vfpoolctl/format_text.h"
#include "client/vfpoolctl/host_use.h"
#include "client/vfpoolctl/snapshot_view.h"

const char *snapshot_cfg_name(unsigned cfg_state)
{
	static const char *const names[] = { "none", "pending", "applied", "failed" };

	return cfg_state < sizeof(names) / sizeof(names[0]) ? names[cfg_state] : "unknown";
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

struct json_object *snapshot_pf_json(unsigned index, const struct vfpool_pf_info *p)
{
	struct json_object *o = json_object_new_object();
	char id[8];

	add(o, "index", json_object_new_int64(index));
	add(o, "pci", ctl_json_string(p->pci_addr));
	add(o, "netdev", ctl_json_string(p->netdev));
	add(o, "driver", ctl_json_string(p->driver));
	snprintf(id, sizeof(id), "%04x", p->vendor & 0xffff);
	add(o, "vendor", json_object_new_string(id));
	snprintf(id, sizeof(id), "%04x", p->device & 0xffff);
	add(o, "device", json_object_new_string(id));
	add(o, "numa_node", json_object_new_int(p->numa_node));
	add(o, "total_vfs", json_object_new_int64(p->total_vfs));
	add(o, "existing", json_object_new_int64(p->existing));
	add(o, "free", json_object_new_int64(p->free));
	add(o, "leased", json_object_new_int64(p->leased));
	add(o, "host_busy", json_object_new_int64(p->host_busy));
	add(o, "iommu_shared", json_object_new_int64(p->iommu_shared));
	add(o, "bound_other", json_object_new_int64(p->bound_other));
	add(o, "dirty", json_object_new_int64(p->dirty));
	add(o, "gone", json_object_new_boolean((p->flags & VFPOOL_PF_GONE) != 0));
	return o;
}

static struct json_object *lease_json(const struct vfpool_vf_info *v)
{
	struct json_object *o = json_object_new_object(), *cfg = json_object_new_object();
	char mac[18];

	add(o, "vm", ctl_json_string(v->vm_id));
	add(o, "vnic", ctl_json_string(v->vnic_id));
	add(o, "network", ctl_json_string(v->network));
	add(o, "generation", json_object_new_uint64(v->generation));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1],
		 v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
	add(cfg, "state", json_object_new_string(snapshot_cfg_name(v->cfg_state)));
	add(cfg, "mac", json_object_new_string(mac));
	add(cfg, "vlan", json_object_new_int64(v->vlan));
	add(cfg, "vlan_qos", json_object_new_int64(v->vlan_qos));
	add(cfg, "mtu", json_object_new_int64(v->mtu));
	add(cfg, "sent", json_object_new_boolean(!v->cfg_recorded));
	add(o, "config", cfg);
	return o;
}

struct json_object *snapshot_vf_json(const struct vfpool_vf_info *v)
{
	struct json_object *o = json_object_new_object();

	add(o, "pci", ctl_json_string(v->pci_addr));
	add(o, "netdev", ctl_json_string(v->netdev));
	add(o, "pf", json_object_new_int64(v->pf_index));
	add(o, "vf", json_object_new_int64(v->vf_index));
	add(o, "iommu_group", json_object_new_int(v->iommu_group));
	add(o, "numa_node", json_object_new_int(v->numa_node));
	add(o, "state", json_object_new_string(vfpool_vf_status_name(v->status)));
	if (v->reason[0])
		add(o, "reason", ctl_json_string(v->reason));
	if (v->host_use)
		add(o, "host_use", ctl_host_use_json(v->host_use));
	if (v->status == VFPOOL_VF_STATUS_LEASED)
		add(o, "lease", lease_json(v));
	return o;
}

struct json_object *snapshot_json(const struct vfpool_snapshot *s)
{
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_request_stats st = VFPOOL_OPTS(vfpool_request_stats);
	struct json_object *root = json_object_new_object(), *daemon = json_object_new_object();
	struct json_object *kinds = json_object_new_object(), *probe = json_object_new_object();
	struct json_object *pfs = json_object_new_array(), *vfs = json_object_new_array();

	vfpool_snapshot_daemon(s, &d);
	vfpool_snapshot_stats(s, &st);
	add(daemon, "pid", json_object_new_int(d.pid));
	add(daemon, "requests", json_object_new_uint64(d.requests));
	add(daemon, "errors", json_object_new_uint64(d.errors));
	add(daemon, "seq", json_object_new_uint64(d.seq));
	/* every kind, zeros too: a consumer finds the same keys each time */
	for (unsigned k = 0; k < st.n_kinds; k++) {
		char kind[sizeof(st.by_kind[k].kind) + 1];

		snprintf(kind, sizeof(kind), "%.*s", (int)sizeof(st.by_kind[k].kind),
			 st.by_kind[k].kind);
		add(kinds, kind, json_object_new_uint64(st.by_kind[k].count));
	}
	add(daemon, "errors_by_kind", kinds);
	add(root, "daemon", daemon);
	add(probe, "mode", ctl_json_string(d.probe_mode));
	add(probe, "passed", json_object_new_uint64(d.probe_passed));
	add(probe, "dropped", json_object_new_uint64(d.probe_dropped));
	add(probe, "reason", ctl_json_string(d.probe_reason));
	add(root, "probe", probe);
	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_pf(s, i, &p) == 0)
			json_object_array_add(pfs, snapshot_pf_json(i, &p));
	}
	add(root, "pfs", pfs);
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) == 0 && v.status != VFPOOL_VF_STATUS_ABSENT)
			json_object_array_add(vfs, snapshot_vf_json(&v));
	}
	add(root, "vfs", vfs);
	return root;
}

/* "probe: bpf, 12 passed, 2048 dropped", and why when it is not the BPF filter. */
static void print_probe(FILE *f, const struct vfpool_daemon_info *d)
{
	char buf[2][256];

	fprintf(f, "probe: %s", ctl_text(buf[0], sizeof(buf[0]), d->probe_mode));
	if (strcmp(d->probe_mode, "off") != 0)
		fprintf(f, ", %llu passed, %llu dropped", (unsigned long long)d->probe_passed,
			(unsigned long long)d->probe_dropped);
	if (d->probe_reason[0])
		fprintf(f, " (%s)", ctl_text(buf[1], sizeof(buf[1]), d->probe_reason));
	fputc('\n', f);
}

/* "errors: no_vf=3 stale=1": the kinds that occurred, or "errors: none". */
static void print_errors(FILE *f, const struct vfpool_snapshot *s)
{
	struct vfpool_request_stats st = VFPOOL_OPTS(vfpool_request_stats);
	bool any = false;

	vfpool_snapshot_stats(s, &st);
	fputs("errors:", f);
	for (unsigned k = 0; k < st.n_kinds; k++) {
		if (!st.by_kind[k].count)
			continue;
		fprintf(f, " %.*s=%llu", (int)sizeof(st.by_kind[k].kind), st.by_kind[k].kind,
			(unsigned long long)st.by_kind[k].count);
		any = true;
	}
	fputs(any ? "\n" : " none\n", f);
}

void snapshot_print_head(FILE *f, const struct vfpool_snapshot *s)
{
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);

	vfpool_snapshot_daemon(s, &d);
	fprintf(f, "daemon pid %d, %llu requests served, %llu errors\n", d.pid,
		(unsigned long long)d.requests, (unsigned long long)d.errors);
	print_errors(f, s);
	print_probe(f, &d);
}

/* The lease column: who holds the VF and its configuration, or why it is blocked. */
static void lease_cell(struct table *t, const struct vfpool_vf_info *v)
{
	if (v->status != VFPOOL_VF_STATUS_LEASED) {
		table_cell(t, v->reason);
		return;
	}
	table_cellf(t, "%.*s/%.*s network=%.*s gen=%llu cfg=%s%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
		    "vlan=%u qos=%u mtu=%u", VFPOOL_VM_ID_LEN, v->vm_id, VFPOOL_VNIC_ID_LEN,
		    v->vnic_id, VFPOOL_NETWORK_LEN, v->network, (unsigned long long)v->generation,
		    snapshot_cfg_name(v->cfg_state),
		    v->cfg_recorded ? "(recorded, not sent: no PF netdev)" : "", v->mac[0], v->mac[1],
		    v->mac[2], v->mac[3], v->mac[4], v->mac[5], v->vlan, v->vlan_qos, v->mtu);
}

void snapshot_vf_table(struct table *t, const struct vfpool_snapshot *s, bool all_vfs)
{
	table_init(t, "lllrrrll", "VF", "NETDEV", "PF", "NUMA", "GROUP", "VF#", "STATE",
		   "LEASE / REASON");
	for (unsigned i = 0; i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_vf(s, i, &v) || v.status == VFPOOL_VF_STATUS_ABSENT ||
		    (!all_vfs && v.status == VFPOOL_VF_STATUS_FREE))
			continue;
		table_cell(t, v.pci_addr);
		table_cell(t, v.netdev);
		if (vfpool_snapshot_pf(s, v.pf_index, &p) == 0 && p.netdev[0])
			table_cell(t, p.netdev);
		else
			table_cellf(t, "%u", v.pf_index);
		table_cellf(t, "%d", v.numa_node);
		table_cellf(t, "%d", v.iommu_group);
		table_cellf(t, "%u", v.vf_index);
		table_cell(t, vfpool_vf_status_name(v.status));
		lease_cell(t, &v);
	}
}

void snapshot_pf_table(struct table *t, const struct vfpool_snapshot *s)
{
	table_init(t, "rlllrrrrrrrrr", "PF", "PCI", "NETDEV", "DRIVER", "NUMA", "TOTAL",
		   "EXISTING", "FREE", "LEASED", "HOST-BUSY", "IOMMU", "BOUND", "DIRTY");
	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		if (vfpool_snapshot_pf(s, i, &p))
			continue;
		table_cellf(t, "%u", i);
		table_cell(t, p.pci_addr);
		if (p.flags & VFPOOL_PF_GONE)
			table_cellf(t, "%s (gone)", p.netdev);
		else
			table_cell(t, p.netdev);
		table_cell(t, p.driver);
		table_cellf(t, "%d", p.numa_node);
		table_cellf(t, "%u", p.total_vfs);
		table_cellf(t, "%u", p.existing);
		table_cellf(t, "%u", p.free);
		table_cellf(t, "%u", p.leased);
		table_cellf(t, "%u", p.host_busy);
		table_cellf(t, "%u", p.iommu_shared);
		table_cellf(t, "%u", p.bound_other);
		table_cellf(t, "%u", p.dirty);
	}
}

void snapshot_print_pf_table(FILE *f, const struct vfpool_snapshot *s)
{
	struct table t;

	snapshot_pf_table(&t, s);
	table_print(f, &t, 0, 0);
	table_free(&t);
}

void snapshot_print_table(FILE *f, const struct vfpool_snapshot *s, bool all_vfs)
{
	struct table t;

	snapshot_print_head(f, s);
	fputc('\n', f);
	snapshot_print_pf_table(f, s);
	fputc('\n', f);
	snapshot_vf_table(&t, s, all_vfs);
	table_print(f, &t, 0, 0);
	table_free(&t);
	if (!all_vfs)
		fprintf(f, "(free VFs not listed; --all lists them)\n");
}

int cmd_snapshot(struct ctl *c)
{
	struct vfpool_snapshot *s;
	int r = ctl_snapshot(c, &s);

	if (r)
		return r;
	if (c->json)
		r = ctl_json_print(stdout, snapshot_json(s));
	else
		snapshot_print_table(stdout, s, ctl_opt(c, "all") != NULL);
	vfpool_snapshot_free(s);
	return r || fflush(stdout) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
