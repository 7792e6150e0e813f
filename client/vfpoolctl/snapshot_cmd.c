/* SPDX-License-Identifier: MIT */
/* vfpoolctl snapshot: per-PF counts and every VF's state and lease, from one consistent
 * read of the state segment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/vfpoolctl/cmds.h"
#include "client/vfpoolctl/host_use.h"

/* JSON string: the daemon validated these, but escape anyway; the output is an interface. */
void ctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static const char *cfg_name(unsigned cfg_state)
{
	static const char *const names[] = { "none", "pending", "applied", "failed" };

	return cfg_state < sizeof(names) / sizeof(names[0]) ? names[cfg_state] : "unknown";
}

static void print_json(FILE *f, const struct vfpool_snapshot *s)
{
	struct vfpool_daemon_info d;
	struct vfpool_request_stats st;
	unsigned n_pfs = vfpool_snapshot_pf_count(s), n_vfs = vfpool_snapshot_vf_count(s);

	vfpool_snapshot_daemon(s, &d);
	vfpool_snapshot_stats(s, &st);
	fprintf(f, "{\"daemon\":{\"pid\":%d,\"requests\":%llu,\"errors\":%llu,\"seq\":%llu,",
		d.pid, (unsigned long long)d.requests, (unsigned long long)d.errors,
		(unsigned long long)d.seq);
	/* every kind, zeros too: a consumer finds the same keys each time */
	fprintf(f, "\"errors_by_kind\":{");
	for (unsigned k = 0; k < st.n_kinds; k++) {
		fputs(k ? "," : "", f);
		ctl_json_str(f, st.by_kind[k].kind);
		fprintf(f, ":%llu", (unsigned long long)st.by_kind[k].count);
	}
	fprintf(f, "}},\n");
	fprintf(f, " \"probe\":{\"mode\":");
	ctl_json_str(f, d.probe_mode);
	fprintf(f, ",\"passed\":%llu,\"dropped\":%llu,\"reason\":",
		(unsigned long long)d.probe_passed, (unsigned long long)d.probe_dropped);
	ctl_json_str(f, d.probe_reason);
	fprintf(f, "},\n");
	fprintf(f, " \"pfs\":[");
	for (unsigned i = 0; i < n_pfs; i++) {
		struct vfpool_pf_info p;

		vfpool_snapshot_pf(s, i, &p);
		fprintf(f, "%s\n  ", i ? "," : "");
		snapshot_print_pf_json(f, i, &p);
	}
	fprintf(f, "],\n \"vfs\":[");
	for (unsigned i = 0, first = 1; i < n_vfs; i++) {
		struct vfpool_vf_info v;

		vfpool_snapshot_vf(s, i, &v);
		if (v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		fprintf(f, "%s\n  {\"pci\":", first ? "" : ",");
		first = 0;
		ctl_json_str(f, v.pci_addr);
		fprintf(f, ",\"netdev\":");
		ctl_json_str(f, v.netdev);
		fprintf(f, ",\"pf\":%u,\"vf\":%u,\"iommu_group\":%d,\"numa_node\":%d,\"state\":\"%s\"",
			v.pf_index, v.vf_index, v.iommu_group, v.numa_node,
			vfpool_vf_status_name(v.status));
		if (v.reason[0]) {
			fprintf(f, ",\"reason\":");
			ctl_json_str(f, v.reason);
		}
		if (v.host_use) {
			fprintf(f, ",\"host_use\":");
			ctl_host_use_json(f, v.host_use);
		}
		if (v.status == VFPOOL_VF_STATUS_LEASED) {
			fprintf(f, ",\"lease\":{\"vm\":");
			ctl_json_str(f, v.vm_id);
			fprintf(f, ",\"vnic\":");
			ctl_json_str(f, v.vnic_id);
			fprintf(f, ",\"network\":");
			ctl_json_str(f, v.network);
			fprintf(f, ",\"generation\":%llu", (unsigned long long)v.generation);
			fprintf(f, ",\"config\":{\"state\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
				"\"vlan\":%u,\"vlan_qos\":%u,\"mtu\":%u,\"sent\":%s}}",
				cfg_name(v.cfg_state), v.mac[0], v.mac[1], v.mac[2], v.mac[3], v.mac[4],
				v.mac[5], v.vlan, v.vlan_qos, v.mtu, v.cfg_recorded ? "false" : "true");
		}
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}

/* "probe: bpf, 12 passed, 2048 dropped", and why when it is not the BPF filter. */
static void print_probe(FILE *f, const struct vfpool_daemon_info *d)
{
	fprintf(f, "probe: %s", d->probe_mode);
	if (strcmp(d->probe_mode, "off") != 0)
		fprintf(f, ", %llu passed, %llu dropped", (unsigned long long)d->probe_passed,
			(unsigned long long)d->probe_dropped);
	if (d->probe_reason[0])
		fprintf(f, " (%s)", d->probe_reason);
	fputc('\n', f);
}

/* "errors: no_vf=3 stale=1": the kinds that occurred, or "errors: none". */
static void print_errors(FILE *f, const struct vfpool_snapshot *s)
{
	struct vfpool_request_stats st;
	bool any = false;

	vfpool_snapshot_stats(s, &st);
	fputs("errors:", f);
	for (unsigned k = 0; k < st.n_kinds; k++) {
		if (!st.by_kind[k].count)
			continue;
		fprintf(f, " %s=%llu", st.by_kind[k].kind, (unsigned long long)st.by_kind[k].count);
		any = true;
	}
	fputs(any ? "\n" : " none\n", f);
}

void snapshot_print_table(FILE *f, const struct vfpool_snapshot *s, bool all_vfs)
{
	struct vfpool_daemon_info d;
	unsigned n_vfs = vfpool_snapshot_vf_count(s);

	vfpool_snapshot_daemon(s, &d);
	fprintf(f, "daemon pid %d, %llu requests served, %llu errors\n", d.pid,
		(unsigned long long)d.requests, (unsigned long long)d.errors);
	print_errors(f, s);
	print_probe(f, &d);
	fputc('\n', f);
	snapshot_print_pf_table(f, s);
	fprintf(f, "\n%-12s %-14s %-3s %-4s %-5s %-12s %s\n", "VF", "NETDEV", "PF", "NUMA", "GROUP",
		"STATE", "LEASE / REASON");
	for (unsigned i = 0; i < n_vfs; i++) {
		struct vfpool_vf_info v;

		vfpool_snapshot_vf(s, i, &v);
		if (v.status == VFPOOL_VF_STATUS_ABSENT ||
		    (!all_vfs && v.status == VFPOOL_VF_STATUS_FREE))
			continue;
		fprintf(f, "%-12s %-14s %-3u %-4d %-5d %-12s ", v.pci_addr, v.netdev, v.pf_index,
			v.numa_node, v.iommu_group, vfpool_vf_status_name(v.status));
		if (v.status == VFPOOL_VF_STATUS_LEASED)
			fprintf(f, "%s/%s network=%s gen=%llu cfg=%s%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
				"vlan=%u qos=%u mtu=%u\n", v.vm_id, v.vnic_id, v.network,
				(unsigned long long)v.generation, cfg_name(v.cfg_state),
				v.cfg_recorded ? "(recorded, not sent: no PF netdev)" : "", v.mac[0],
				v.mac[1], v.mac[2], v.mac[3], v.mac[4], v.mac[5], v.vlan, v.vlan_qos,
				v.mtu);
		else
			fprintf(f, "%s\n", v.reason);
	}
	if (!all_vfs)
		fprintf(f, "(free VFs not listed; --all lists them)\n");
}

void snapshot_print_pf_table(FILE *f, const struct vfpool_snapshot *s)
{
	unsigned n_pfs = vfpool_snapshot_pf_count(s);

	fprintf(f, "%-3s %-12s %-10s %-10s %4s %5s %8s %5s %6s %9s %5s %5s %5s\n", "PF", "PCI",
		"NETDEV", "DRIVER", "NUMA", "TOTAL", "EXISTING", "FREE", "LEASED", "HOST-BUSY",
		"IOMMU", "BOUND", "DIRTY");
	for (unsigned i = 0; i < n_pfs; i++) {
		struct vfpool_pf_info p;

		vfpool_snapshot_pf(s, i, &p);
		fprintf(f, "%-3u %-12s %-10s %-10s %4d %5u %8u %5u %6u %9u %5u %5u %5u\n", i,
			p.pci_addr, p.netdev, p.driver, p.numa_node, p.total_vfs, p.existing, p.free,
			p.leased, p.host_busy, p.iommu_shared, p.bound_other, p.dirty);
	}
}

void snapshot_print_pf_json(FILE *f, unsigned index, const struct vfpool_pf_info *p)
{
	fprintf(f, "{\"index\":%u,\"pci\":", index);
	ctl_json_str(f, p->pci_addr);
	fprintf(f, ",\"netdev\":");
	ctl_json_str(f, p->netdev);
	fprintf(f, ",\"driver\":");
	ctl_json_str(f, p->driver);
	fprintf(f, ",\"vendor\":\"%04x\",\"device\":\"%04x\",\"numa_node\":%d,"
		   "\"total_vfs\":%u,\"existing\":%u,\"free\":%u,\"leased\":%u,"
		   "\"host_busy\":%u,\"iommu_shared\":%u,\"bound_other\":%u,\"dirty\":%u}",
		p->vendor, p->device, p->numa_node, p->total_vfs, p->existing, p->free, p->leased,
		p->host_busy, p->iommu_shared, p->bound_other, p->dirty);
}

int cmd_snapshot(const struct ctl_opts *o)
{
	struct vfpool_snapshot *s;

	if (ctl_snapshot_take(o, "snapshot", &s))
		return CTL_EXIT_FAIL;
	if (o->json)
		print_json(stdout, s);
	else
		snapshot_print_table(stdout, s, o->all);
	vfpool_snapshot_free(s);
	return CTL_EXIT_OK;
}
