/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
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

__attribute__((format(printf, 3, 4))) static void check(struct soak_result *res, bool ok,
							  const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		res->passed++;
		return;
	}
	res->failed++;
	printf("soak: FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* An allocation answered for a vNIC whose last fact was an acknowledged lease: the daemon
 * must have found that same lease. A new one means the old one vanished in between, with
 * nobody told (the malformed-chain undo did that to other VMs' leases). */
static void check_history(struct soak_result *res, const char *vm, unsigned idx,
			  const struct vnic_fact *was, const char *pci, unsigned long long gen,
			  bool existing)
{
	res->leases_checked++;
	check(res, existing && strcmp(was->pci, pci) == 0 && was->gen == gen,
	      "%s/nic%u: acknowledged lease %s gen %llu vanished: asked again, the daemon gave "
	      "%s gen %llu%s", vm, idx, was->pci, was->gen, pci, gen,
	      existing ? " as existing" : " as a new lease");
}

/* Reads a log's facts; with res, also checks its history (check_history). */
static int read_log(const char *path, const char *vm, struct vnic_fact *f,
		    struct soak_result *res)
{
	FILE *fp = fopen(path, "re");
	char line[128];

	memset(f, 0, sizeof(*f) * SOAK_VNICS);
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char kind, pci[VFPOOL_PCI_ADDR_LEN], e[2];
		unsigned idx;
		unsigned long long gen;
		int got;

		if (sscanf(line, "%c nic%u", &kind, &idx) != 2 || idx >= SOAK_VNICS)
			continue;
		switch (kind) {
		case 'B':
			f[idx].pending = true;
			break;
		case 'A':
			got = sscanf(line, "A nic%u %15s %llu %1s", &idx, pci, &gen, e);
			if (got >= 3) {
				if (res && f[idx].k == K_LEASED)
					check_history(res, vm, idx, &f[idx], pci, gen,
						      got == 4 && e[0] == 'E');
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

/* Every PF: free + leased + blocked = existing, and no vNIC leased twice. */
static void check_snapshot(const char *run_dir, struct soak_result *res)
{
	struct vfpool_snapshot *s;
	unsigned count;

	if (vfpool_snapshot_take(run_dir, &s) < 0) {
		check(res, false, "snapshot: cannot take one");
		return;
	}
	for (unsigned p = 0; p < vfpool_snapshot_pf_count(s); p++) {
		struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);
		unsigned sum;

		vfpool_snapshot_pf(s, p, &pf);
		sum = pf.free + pf.leased + pf.host_busy + pf.iommu_shared + pf.bound_other + pf.dirty;
		check(res, sum == pf.existing,
		      "%s: free %u + leased %u + blocked %u != existing %u", pf.netdev, pf.free,
		      pf.leased, sum - pf.free - pf.leased, pf.existing);
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
		check(res, !twice, "%s/%s holds two VFs", a.vm_id, a.vnic_id);
	}
	vfpool_snapshot_free(s);
}

/* A live log against the lease table: what it holds is held, what it released stays so. */
static void check_live(const char *table, const struct soak_log *log, const struct vnic_fact *f,
		       struct soak_result *res)
{
	for (unsigned i = 0; i < SOAK_VNICS; i++) {
		char prefix[96], want[128];

		snprintf(prefix, sizeof(prefix), "%s nic%u ", log->vm, i);
		if (f[i].k == K_LEASED) {
			snprintf(want, sizeof(want), "%s%s %llu\n", prefix, f[i].pci, f[i].gen);
			res->leases_checked++;
			check(res, strstr(table, want) != NULL,
			      "%s/nic%u: acknowledged lease %s gen %llu missing", log->vm, i,
			      f[i].pci, f[i].gen);
		} else if (f[i].k == K_RELEASED) {
			check(res, !strstr(table, prefix),
			      "%s/nic%u: acknowledged release came back", log->vm, i);
		}
	}
}

/* A VF is held by one vNIC: no two live logs may both hold a lease on the same VF. */
static void check_no_vf_twice(struct soak_log *logs, struct vnic_fact (*facts)[SOAK_VNICS],
			      unsigned n, struct soak_result *res)
{
	for (unsigned c = 0; c < n; c++) {
		for (unsigned i = 0; i < SOAK_VNICS; i++) {
			bool twice = false;

			if (logs[c].retired || facts[c][i].k != K_LEASED)
				continue;
			for (unsigned d = c; d < n && !twice; d++)
				for (unsigned k = d == c ? i + 1 : 0; k < SOAK_VNICS && !twice; k++)
					twice = !logs[d].retired && facts[d][k].k == K_LEASED &&
						strcmp(facts[d][k].pci, facts[c][i].pci) == 0;
			check(res, !twice, "VF %s acknowledged to %s/nic%u and to another vNIC",
			      facts[c][i].pci, logs[c].vm, i);
		}
	}
}

bool soak_check_retiring(const char *run_dir, struct soak_log *log, struct soak_result *res)
{
	struct vnic_fact f[SOAK_VNICS];
	unsigned failed = res->failed;
	char *table;

	if (read_log(log->path, log->vm, f, log->read_once ? NULL : res) < 0)
		return true; /* killed before it wrote anything */
	log->read_once = true;
	table = soak_lease_table(run_dir);
	if (!table) {
		check(res, false, "snapshot: cannot read leases");
		return false;
	}
	check_live(table, log, f, res);
	free(table);
	for (unsigned i = 0; i < SOAK_VNICS; i++)
		log->pending_at_retire[i] = f[i].k == K_UNKNOWN;
	return res->failed == failed;
}

void soak_check(const char *run_dir, struct soak_log *logs, unsigned n, struct soak_result *res)
{
	char *table = soak_lease_table(run_dir);
	struct vnic_fact (*facts)[SOAK_VNICS] = calloc(n ? n : 1, sizeof(*facts));

	check_snapshot(run_dir, res);
	if (!table || !facts) {
		check(res, false, "snapshot: cannot read leases");
		free(table);
		free(facts);
		return;
	}
	for (unsigned c = 0; c < n; c++) {
		struct soak_result *history = logs[c].read_once ? NULL : res;

		if (read_log(logs[c].path, logs[c].vm, facts[c], history) < 0)
			continue; /* killed before it wrote anything */
		logs[c].read_once = true;
		if (!logs[c].retired) {
			check_live(table, &logs[c], facts[c], res);
			continue;
		}
		/* its VM's leases were released by the operator: none may come back, except
		 * from an operation still in flight when it was killed */
		for (unsigned i = 0; i < SOAK_VNICS; i++) {
			char prefix[96];

			if (logs[c].pending_at_retire[i])
				continue;
			snprintf(prefix, sizeof(prefix), "%s nic%u ", logs[c].vm, i);
			check(res, !strstr(table, prefix), "%s/nic%u: lease back after `lease gc`",
			      logs[c].vm, i);
		}
	}
	check_no_vf_twice(logs, facts, n, res);
	free(facts);
	free(table);
}
