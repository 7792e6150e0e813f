/* SPDX-License-Identifier: MIT */
/*
 * Metric families (the names are an interface: dashboards and alerts use them):
 *   vfpool_up                            gauge: 1 while vfpoold runs; 0 (and nothing else)
 *                                        when it does not
 *   vfpool_build_info{version}           gauge: 1, labelled with the release (the exporter's,
 *                                        vfpoolctl: the daemon's is not in the segment)
 *   vfpool_vfs{pf,state}                 gauge: VFs per PF per state
 *   vfpool_vfs_blocked{pf,reason}        gauge: VFs per PF blocked for each reason, a VF
 *                                        once per reason that applies, leased or not:
 *                                        how the host uses it (macvtap, vlan, bridge_port,
 *                                        bond_member, address, default_route, up) or
 *                                        iommu_shared, bound_other, dirty
 *   vfpool_vfs_up_not_leased{pf}         gauge: free VFs that are up on the host
 *   vfpool_pf_total_vfs{pf}              gauge: sriov_totalvfs
 *   vfpool_network_leased_vfs{network}   gauge: leases per network
 *   vfpool_network_free_vfs{network}     gauge: VFs an allocation on the network could get
 *                                        now (free on the PFs allowed to serve it; a VF of
 *                                        a PF that serves two networks counts in both)
 *   vfpool_requests_total                counter: requests served since the daemon started
 *   vfpool_request_errors_total{kind}    counter: requests that failed, by kind (every kind
 *                                        the library names, zeros too; they sum to the total)
 *   vfpool_request_service_seconds       histogram: service time of 1 request in 64
 *   vfpool_probe_messages_total{verdict} counter: link events passed/dropped by the probe
 *   vfpool_probe_mode{mode}              gauge: 1 for the mode in use
 *   vfpool_journal_bytes                 gauge: size of the lease journal
 *   vfpool_journal_records_lost_total    counter: damaged journal records skipped at start
 *   vfpool_daemon_start_time_seconds     gauge: when the daemon published its state
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/vfpoolctl/host_use.h"
#include "client/vfpoolctl/metrics.h"
#include "shm/layout.h"

#ifndef VFPOOL_VERSION
#define VFPOOL_VERSION "unknown"
#endif

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values escape backslash, double quote and newline (format 0.0.4). */
static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The PF's label: its netdev, or its PCI address when it has none (unbound driver). */
static const char *pf_label(const struct vfpool_pf_info *p)
{
	return p->netdev[0] ? p->netdev : p->pci_addr;
}

#define BLOCKED_NR (CTL_HOST_USE_NR + 3)

/* Per PF: blocked VFs by reason (the host uses, then IOMMU shared, bound other, dirty) and,
 * last, free VFs that are up on the host. One pass over the VFs. */
static unsigned *count_blocked(const struct vfpool_snapshot *s)
{
	static const enum vfpool_block_reason other[] = { VFPOOL_BLOCK_IOMMU_SHARED,
							  VFPOOL_BLOCK_BOUND_OTHER,
							  VFPOOL_BLOCK_DIRTY };
	unsigned n_pfs = vfpool_snapshot_pf_count(s);
	unsigned *n = calloc((size_t)(n_pfs ? n_pfs : 1) * (BLOCKED_NR + 1), sizeof(*n));

	for (unsigned i = 0; n && i < vfpool_snapshot_vf_count(s); i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		unsigned *c;

		if (vfpool_snapshot_vf(s, i, &v) || v.pf_index >= n_pfs ||
		    v.status == VFPOOL_VF_STATUS_ABSENT)
			continue;
		c = &n[v.pf_index * (BLOCKED_NR + 1)];
		if (v.status == VFPOOL_VF_STATUS_FREE && v.host_use == VFPOOL_VF_USE_UP)
			c[BLOCKED_NR]++;
		if (v.blocked_mask & (1u << VFPOOL_BLOCK_HOST_BUSY))
			for (unsigned k = 0; k < CTL_HOST_USE_NR; k++)
				c[k] += (v.host_use >> k) & 1;
		for (unsigned k = 0; k < 3; k++)
			c[CTL_HOST_USE_NR + k] += (v.blocked_mask >> other[k]) & 1;
	}
	return n;
}

static int write_blocked(FILE *f, const struct vfpool_snapshot *s)
{
	static const char *const other[] = { "iommu_shared", "bound_other", "dirty" };
	unsigned n_pfs = vfpool_snapshot_pf_count(s), *n = count_blocked(s);

	if (!n)
		return -ENOMEM;
	family(f, "vfpool_vfs_blocked", "gauge",
	       "VFs per PF blocked for each reason (a VF once per reason that applies, leased or "
	       "not): how the host uses it, or iommu_shared, bound_other, dirty.");
	for (unsigned i = 0; i < n_pfs; i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		vfpool_snapshot_pf(s, i, &p);
		for (unsigned k = 0; k < BLOCKED_NR; k++) {
			fputs("vfpool_vfs_blocked{pf=", f);
			label_value(f, pf_label(&p));
			fprintf(f, ",reason=\"%s\"} %u\n",
				k < CTL_HOST_USE_NR ? ctl_host_use_name(k) : other[k - CTL_HOST_USE_NR],
				n[i * (BLOCKED_NR + 1) + k]);
		}
	}
	family(f, "vfpool_vfs_up_not_leased", "gauge",
	       "Free VFs per PF whose netdev is up on the host (allocatable unless vfpoold runs "
	       "with --busy-when-up).");
	for (unsigned i = 0; i < n_pfs; i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		vfpool_snapshot_pf(s, i, &p);
		fputs("vfpool_vfs_up_not_leased{pf=", f);
		label_value(f, pf_label(&p));
		fprintf(f, "} %u\n", n[i * (BLOCKED_NR + 1) + BLOCKED_NR]);
	}
	free(n);
	return 0;
}

static void write_vfs(FILE *f, const struct vfpool_snapshot *s)
{
	unsigned n = vfpool_snapshot_pf_count(s);

	family(f, "vfpool_vfs", "gauge", "Existing VFs per PF by state (leased wins over blocked).");
	for (unsigned i = 0; i < n; i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);
		static const char *const states[] = { "free", "leased", "host_busy",
						      "iommu_shared", "bound_other", "dirty" };
		unsigned val[6];

		vfpool_snapshot_pf(s, i, &p);
		val[0] = p.free, val[1] = p.leased, val[2] = p.host_busy;
		val[3] = p.iommu_shared, val[4] = p.bound_other, val[5] = p.dirty;
		for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
			fputs("vfpool_vfs{pf=", f);
			label_value(f, pf_label(&p));
			fprintf(f, ",state=\"%s\"} %u\n", states[k], val[k]);
		}
	}
	family(f, "vfpool_pf_total_vfs", "gauge", "VF slots per PF (sriov_totalvfs).");
	for (unsigned i = 0; i < n; i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		vfpool_snapshot_pf(s, i, &p);
		fputs("vfpool_pf_total_vfs{pf=", f);
		label_value(f, pf_label(&p));
		fprintf(f, "} %u\n", p.total_vfs);
	}
}

struct net_count {
	char name[VFPOOL_NETWORK_LEN];
	unsigned leased;
};

/* Free VFs per defined network: what `vfpoolctl capacity` says, summed. */
static void write_network_free(FILE *f, const struct vfpool_snapshot *s)
{
	unsigned n_nets = vfpool_snapshot_network_count(s), n_pfs = vfpool_snapshot_pf_count(s);

	family(f, "vfpool_network_free_vfs", "gauge",
	       "VFs free on the PFs allowed to serve the network (a VF of a PF serving several "
	       "networks counts in each).");
	for (unsigned i = 0; i < n_nets; i++) {
		struct vfpool_network_info n = VFPOOL_OPTS(vfpool_network_info);
		unsigned free_vfs = 0;

		if (vfpool_snapshot_network(s, i, &n))
			continue;
		for (unsigned p = 0; p < n_pfs && p < 256; p++) {
			struct vfpool_pf_info pf = VFPOOL_OPTS(vfpool_pf_info);

			if ((n.pf_allowed[p / 64] >> (p % 64)) & 1 && vfpool_snapshot_pf(s, p, &pf) == 0)
				free_vfs += pf.free;
		}
		fputs("vfpool_network_free_vfs{network=", f);
		label_value(f, n.name);
		fprintf(f, "} %u\n", free_vfs);
	}
}

static int write_networks(FILE *f, const struct vfpool_snapshot *s)
{
	unsigned n_vfs = vfpool_snapshot_vf_count(s), n = 0;
	struct net_count *nets = NULL;

	family(f, "vfpool_network_leased_vfs", "gauge", "Leased VFs per network.");
	if (n_vfs) {
		nets = calloc(n_vfs, sizeof(*nets)); /* at most one network per lease */
		if (!nets)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n_vfs; i++) {
		struct vfpool_vf_info v = VFPOOL_OPTS(vfpool_vf_info);
		unsigned k;

		vfpool_snapshot_vf(s, i, &v);
		if (v.status != VFPOOL_VF_STATUS_LEASED)
			continue;
		for (k = 0; k < n && strcmp(nets[k].name, v.network) != 0; k++)
			;
		if (k == n)
			memcpy(nets[n++].name, v.network, sizeof(v.network));
		nets[k].leased++;
	}
	for (unsigned k = 0; k < n; k++) {
		fputs("vfpool_network_leased_vfs{network=", f);
		label_value(f, nets[k].name);
		fprintf(f, "} %u\n", nets[k].leased);
	}
	free(nets);
	return 0;
}

static void write_daemon(FILE *f, const struct vfpool_daemon_info *d)
{
	static const char *const modes[] = { "off", "bpf", "fallback" };

	family(f, "vfpool_requests_total", "counter", "Requests served since the daemon started.");
	fprintf(f, "vfpool_requests_total %llu\n", (unsigned long long)d->requests);
	family(f, "vfpool_probe_messages_total", "counter",
	       "Link events the event probe let through or filtered out.");
	fprintf(f, "vfpool_probe_messages_total{verdict=\"passed\"} %llu\n",
		(unsigned long long)d->probe_passed);
	fprintf(f, "vfpool_probe_messages_total{verdict=\"dropped\"} %llu\n",
		(unsigned long long)d->probe_dropped);
	family(f, "vfpool_probe_mode", "gauge", "The event probe's mode: 1 for the one in use.");
	for (unsigned m = 0; m < 3; m++)
		fprintf(f, "vfpool_probe_mode{mode=\"%s\"} %d\n", modes[m],
			strcmp(d->probe_mode, modes[m]) == 0);
	family(f, "vfpool_journal_bytes", "gauge", "Size of the lease journal in bytes.");
	fprintf(f, "vfpool_journal_bytes %llu\n", (unsigned long long)d->journal_bytes);
	family(f, "vfpool_journal_records_lost_total", "counter",
	       "Damaged lease journal records skipped when the daemon started (each one logged).");
	fprintf(f, "vfpool_journal_records_lost_total %llu\n",
		(unsigned long long)d->journal_records_lost);
	family(f, "vfpool_daemon_start_time_seconds", "gauge",
	       "When the daemon published its state, seconds since the epoch.");
	fprintf(f, "vfpool_daemon_start_time_seconds %llu.%09llu\n",
		(unsigned long long)(d->started_ns / 1000000000u),
		(unsigned long long)(d->started_ns % 1000000000u));
}

static void seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
		(unsigned long long)(ns % 1000000000u));
}

/* A bucket's representative time for the approximate sum: the middle of [under/2, under),
 * [0, 128 ns) for the first; the last, unbounded one at 1.5 times its lower bound. */
static double bucket_mid_ns(const struct vfpool_request_stats *st, unsigned b)
{
	if (b == 0)
		return (double)st->latency[0].under_ns / 2;
	return 1.5 * (double)st->latency[b - 1].under_ns;
}

static void write_request_stats(FILE *f, const struct vfpool_request_stats *st)
{
	uint64_t cum = 0;
	double sum_ns = 0;
	char help[256];

	family(f, "vfpool_request_errors_total", "counter",
	       "Requests that failed, by kind (the kinds sum to all failures).");
	for (unsigned k = 0; k < st->n_kinds; k++) {
		fputs("vfpool_request_errors_total{kind=", f);
		label_value(f, st->by_kind[k].kind);
		fprintf(f, "} %llu\n", (unsigned long long)st->by_kind[k].count);
	}
	snprintf(help, sizeof(help),
		 "Request service time in the daemon, sampled: 1 request in %u is timed. "
		 "_sum is approximate (each sample counted at its bucket's midpoint).",
		 st->sample_every);
	family(f, "vfpool_request_service_seconds", "histogram", help);
	for (unsigned b = 0; b < st->n_buckets; b++) {
		cum += st->latency[b].count;
		sum_ns += (double)st->latency[b].count * bucket_mid_ns(st, b);
		fputs("vfpool_request_service_seconds_bucket{le=\"", f);
		if (st->latency[b].under_ns == UINT64_MAX)
			fputs("+Inf", f);
		else
			seconds(f, st->latency[b].under_ns);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	if (!st->n_buckets || st->latency[st->n_buckets - 1].under_ns != UINT64_MAX)
		fprintf(f, "vfpool_request_service_seconds_bucket{le=\"+Inf\"} %llu\n",
			(unsigned long long)cum);
	fprintf(f, "vfpool_request_service_seconds_sum %.9f\n", sum_ns / 1e9);
	fprintf(f, "vfpool_request_service_seconds_count %llu\n", (unsigned long long)cum);
}

static void write_up(FILE *f, int up)
{
	family(f, "vfpool_up", "gauge",
	       "1 while vfpoold runs; 0 when it does not (then no other vfpool metric is exported).");
	fprintf(f, "vfpool_up %d\n", up);
}

static void write_build_info(FILE *f)
{
	family(f, "vfpool_build_info", "gauge", "Always 1; the vfpool release in its label.");
	fputs("vfpool_build_info{version=", f);
	label_value(f, VFPOOL_VERSION);
	fputs("} 1\n", f);
}

void metrics_write_down(FILE *f)
{
	write_up(f, 0);
	write_build_info(f);
}

int metrics_write(FILE *f, const struct vfpool_snapshot *s)
{
	struct vfpool_daemon_info d = VFPOOL_OPTS(vfpool_daemon_info);
	struct vfpool_request_stats st = VFPOOL_OPTS(vfpool_request_stats);
	int r;

	vfpool_snapshot_daemon(s, &d);
	vfpool_snapshot_stats(s, &st);
	write_up(f, 1);
	write_build_info(f);
	write_vfs(f, s);
	r = write_blocked(f, s);
	if (r)
		return r;
	r = write_networks(f, s);
	if (r)
		return r;
	write_network_free(f, s);
	write_daemon(f, &d);
	write_request_stats(f, &st);
	return 0;
}
