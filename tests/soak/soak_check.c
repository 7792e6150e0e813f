/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/soak/soak.h"
#include "vfpool/vfpool.h"

/* What a client's log says about one vNIC at the end. */
enum known { K_NONE = 0, K_LEASED, K_RELEASED, K_UNKNOWN };

struct vnic_fact {
	enum known k;
	bool pending; /* begun, no answer logged */
	char pci[VFPOOL_PCI_ADDR_LEN];
	unsigned long long gen;
};

static void check(struct soak_result *res, bool ok, const char *fmt, const char *a,
		  const char *b, const char *c)
{
	if (ok) {
		res->passed++;
		return;
	}
	res->failed++;
	printf("soak: FAIL ");
	printf(fmt, a, b, c);
	printf("\n");
}

static int read_log(const char *path, struct vnic_fact *f)
{
	FILE *fp = fopen(path, "re");
	char line[128];

	memset(f, 0, sizeof(*f) * SOAK_VNICS);
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char kind, pci[VFPOOL_PCI_ADDR_LEN];
		unsigned idx;
		unsigned long long gen;

		if (sscanf(line, "%c nic%u", &kind, &idx) != 2 || idx >= SOAK_VNICS)
			continue;
		switch (kind) {
		case 'B':
			f[idx].pending = true;
			break;
		case 'A':
			if (sscanf(line, "A nic%u %15s %llu", &idx, pci, &gen) == 3) {
				f[idx].k = K_LEASED;
				snprintf(f[idx].pci, sizeof(f[idx].pci), "%s", pci);
				f[idx].gen = gen;
			}
			f[idx].pending = false;
			break;
		case 'R':
			f[idx].k = K_RELEASED;
			f[idx].pending = false;
			break;
		case 'U':
			f[idx].k = K_UNKNOWN;
			f[idx].pending = false;
			break;
		default: /* F: nothing changed */
			f[idx].pending = false;
			break;
		}
	}
	fclose(fp);
	for (unsigned i = 0; i < SOAK_VNICS; i++)
		if (f[i].pending)
			f[i].k = K_UNKNOWN; /* killed mid-operation */
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *soak_lease_table(const char *run_dir)
{
	struct vfpool_snapshot *s;
	char **lines, *out;
	unsigned n = 0, count;
	size_t len = 1;

	if (vfpool_snapshot_take(run_dir, &s) < 0)
		return NULL;
	count = vfpool_snapshot_vf_count(s);
	lines = calloc(count ? count : 1, sizeof(*lines));
	for (unsigned i = 0; lines && i < count; i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);

		if (vfpool_snapshot_vf(s, i, &v) < 0 || v.status != VFPOOL_VF_STATUS_LEASED)
			continue;
		if (asprintf(&lines[n], "%s %s %s %llu\n", v.vm_id, v.vnic_id, v.pci_addr,
			     (unsigned long long)v.generation) < 0)
			break;
		len += strlen(lines[n++]);
	}
	vfpool_snapshot_free(s);
	if (!lines)
		return NULL;
	qsort(lines, n, sizeof(*lines), cmp_lines);
	out = calloc(1, len);
	for (unsigned i = 0; i < n; i++) {
		if (out)
			strcat(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return out;
}

/* Every PF: free + leased + blocked = existing, and no VF or vNIC leased twice. */
static void check_snapshot(const char *run_dir, struct soak_result *res)
{
	struct vfpool_snapshot *s;
	unsigned count;

	if (vfpool_snapshot_take(run_dir, &s) < 0) {
		check(res, false, "%s%s%s", "snapshot: cannot take one", "", "");
		return;
	}
	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);
		unsigned sum;
		char msg[160];

		vfpool_snapshot_pf(s, p, &pf);
		sum = pf.free + pf.leased + pf.host_busy + pf.iommu_shared + pf.bound_other + pf.dirty;
		snprintf(msg, sizeof(msg), "%s: free %u + leased %u + blocked %u != existing %u",
			 pf.netdev, pf.free, pf.leased, sum - pf.free - pf.leased, pf.existing);
		check(res, sum == pf.existing, "%s%s%s", sum == pf.existing ? "" : msg, "", "");
	}
	count = vfpool_snapshot_vf_count(s);
	for (unsigned i = 0; i < count; i++) {
		struct vfpool_vf_info a = VFPOOL_OPTS(vfpool_vf_info);
		bool twice = false;

		vfpool_snapshot_vf(s, i, &a);
		if (a.status != VFPOOL_VF_STATUS_LEASED)
			continue;
		for (unsigned k = i + 1; k < count && !twice; k++) {
			struct vfpool_vf_info b = VFPOOL_OPTS(vfpool_vf_info);

			vfpool_snapshot_vf(s, k, &b);
			twice = b.status == VFPOOL_VF_STATUS_LEASED && strcmp(a.vm_id, b.vm_id) == 0 &&
				strcmp(a.vnic_id, b.vnic_id) == 0;
		}
		/* one VF record per slot: a VF cannot appear twice; a vNIC can */
		check(res, !twice, "%s/%s holds two VFs%s", a.vm_id, a.vnic_id, "");
	}
	vfpool_snapshot_free(s);
}

void soak_check(const char *run_dir, char **log_paths, char **vms, unsigned n,
		struct soak_result *res)
{
	char *table = soak_lease_table(run_dir);

	check_snapshot(run_dir, res);
	if (!table) {
		check(res, false, "%s%s%s", "snapshot: cannot read leases", "", "");
		return;
	}
	for (unsigned c = 0; c < n; c++) {
		struct vnic_fact f[SOAK_VNICS];

		if (read_log(log_paths[c], f) < 0)
			continue; /* killed before it wrote anything */
		for (unsigned i = 0; i < SOAK_VNICS; i++) {
			char prefix[96], want[128], vnic[8];
			bool present;

			snprintf(vnic, sizeof(vnic), "nic%u", i);
			snprintf(prefix, sizeof(prefix), "%s %s ", vms[c], vnic);
			present = strstr(table, prefix) != NULL;
			if (f[i].k == K_LEASED) {
				snprintf(want, sizeof(want), "%s %s %s %llu\n", vms[c], vnic, f[i].pci,
					 f[i].gen);
				check(res, strstr(table, want) != NULL,
				      "%s/%s: acknowledged lease %s missing", vms[c], vnic, f[i].pci);
			} else if (f[i].k == K_RELEASED) {
				check(res, !present, "%s/%s: acknowledged release came back%s", vms[c],
				      vnic, "");
			}
		}
	}
	free(table);
}
