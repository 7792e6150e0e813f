/* SPDX-License-Identifier: MIT */
/* Failed requests by kind and the sampled service-time histogram, end to end: the real
 * daemon serves a known set of requests, some failing in known ways, and vfpoolctl
 * (metrics, snapshot) and libvfpool report exactly those. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/daemon_fixture.h"
#include "tests/prom_parse.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

/* What the known workload sends: 132 requests, 4 of them failing one way each. */
#define WORKLOAD_REQUESTS 132u
#define CYCLES 60

static void alloc_expect(struct vfpool *h, const char *vm, const char *vnic, int want,
			 struct vfpool_lease *ret_lease)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = vm, .vnic_id = vnic, .network = "red", .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "";
	int r = vfpool_alloc(h, &req, &l, why, sizeof(why));

	cr_assert_eq(r, want, "alloc %s/%s: %s (%s), wanted %s", vm, vnic, vfpool_strerror(r), why,
		     vfpool_strerror(want));
	if (ret_lease && r == 0)
		*ret_lease = l;
}

/* On a 1x4 host: 4 leases, then no VF (no_vf), a release of nothing (no_lease), a release
 * of an old generation (stale), a malformed vm_id the daemon rejects (rejected); then the
 * 4 released and 60 alloc/release cycles. */
static void run_workload(struct test_daemon *d)
{
	struct vfpool *h;
	struct vfpool_lease first = VFPOOL_OPTS(vfpool_lease);
	char vnic[16];

	test_daemon_start(d, "1x4", NULL);
	cr_assert_eq(vfpool_connect(d->run_dir, NULL, &h), 0);
	alloc_expect(h, "vm1", "nic0", 0, &first);
	alloc_expect(h, "vm1", "nic1", 0, NULL);
	alloc_expect(h, "vm1", "nic2", 0, NULL);
	alloc_expect(h, "vm1", "nic3", 0, NULL);
	alloc_expect(h, "vm1", "nic4", -ENOSPC, NULL);
	cr_assert_eq(vfpool_release(h, "vm9", "nic0", 0, NULL, 0), -ENOENT);
	cr_assert_eq(vfpool_release(h, "vm1", "nic0", first.generation + 1000, NULL, 0), -ESTALE);
	alloc_expect(h, "bad vm", "nic0", -EINVAL, NULL);
	for (int i = 0; i < 4; i++) {
		snprintf(vnic, sizeof(vnic), "nic%d", i);
		cr_assert_eq(vfpool_release(h, "vm1", vnic, 0, NULL, 0), 0);
	}
	for (int i = 0; i < CYCLES; i++) {
		alloc_expect(h, "vm2", "nic0", 0, NULL);
		cr_assert_eq(vfpool_release(h, "vm2", "nic0", 0, NULL, 0), 0);
	}
	vfpool_close(h);
}

static void stats_of(const struct test_daemon *d, struct vfpool_request_stats *ret)
{
	struct vfpool_snapshot *s;

	cr_assert_eq(vfpool_snapshot_take(d->run_dir, &s), 0);
	cr_assert_eq(vfpool_snapshot_stats(s, ret), 0);
	vfpool_snapshot_free(s);
}

static uint64_t kind(const struct vfpool_request_stats *st, const char *name)
{
	for (unsigned k = 0; k < st->n_kinds; k++)
		if (strcmp(st->by_kind[k].kind, name) == 0)
			return st->by_kind[k].count;
	cr_assert_fail("no error kind %s", name);
	return 0;
}

Test(request_metrics, errors_by_kind_match_the_known_failures_exactly)
{
	struct test_daemon d;
	struct vfpool_request_stats st = VFPOOL_OPTS(vfpool_request_stats);
	uint64_t sum = 0;

	run_workload(&d);
	stats_of(&d, &st);
	cr_assert_eq(st.requests, WORKLOAD_REQUESTS);
	cr_assert_eq(kind(&st, "no_vf"), 1u);
	cr_assert_eq(kind(&st, "no_lease"), 1u);
	cr_assert_eq(kind(&st, "stale"), 1u);
	cr_assert_eq(kind(&st, "rejected"), 1u);
	for (unsigned k = 0; k < st.n_kinds; k++)
		sum += st.by_kind[k].count;
	cr_assert_eq(sum, 4u, "no failure counted under another kind");
	cr_assert_eq(st.errors, 4u);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(request_metrics, histogram_counts_every_64th_request)
{
	struct test_daemon d;
	struct vfpool_request_stats st = VFPOOL_OPTS(vfpool_request_stats);
	uint64_t samples = 0;

	run_workload(&d);
	stats_of(&d, &st);
	cr_assert_eq(st.sample_every, 64u);
	for (unsigned b = 0; b < st.n_buckets; b++)
		samples += st.latency[b].count;
	cr_assert_eq(samples, WORKLOAD_REQUESTS / 64);
	cr_assert_eq(st.latency[st.n_buckets - 1].under_ns, UINT64_MAX);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(request_metrics, exposition_parses_with_kinds_and_a_cumulative_histogram)
{
	struct test_daemon d;
	struct prom_doc doc;
	char why[256] = "", *out;
	double prev = 0;
	unsigned buckets = 0;

	run_workload(&d);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	/* the parser checks the histogram's shape: increasing le, cumulative, +Inf = _count */
	cr_assert_eq(prom_parse(out, &doc, why, sizeof(why)), 0, "%s\n%s", why, out);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", "kind=\"no_vf\""), 1.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", "kind=\"stale\""), 1.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", "kind=\"no_lease\""), 1.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", "kind=\"rejected\""), 1.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", NULL), 4.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_service_seconds_count", NULL),
		     (double)(WORKLOAD_REQUESTS / 64));
	for (unsigned i = 0; i < doc.n; i++) {
		if (strcmp(doc.samples[i].name, "vfpool_request_service_seconds_bucket") != 0)
			continue;
		cr_assert_geq(doc.samples[i].value, prev, "bucket %s went down",
			      doc.samples[i].labels);
		prev = doc.samples[i].value;
		buckets++;
	}
	cr_assert_eq(buckets, 16u);
	cr_assert_eq(prev, (double)(WORKLOAD_REQUESTS / 64), "the +Inf bucket holds every sample");
	cr_assert_gt(prom_sum(&doc, "vfpool_request_service_seconds_sum", NULL), 0.0);
	prom_free(&doc);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(request_metrics, snapshot_table_lists_only_the_kinds_that_occurred)
{
	struct test_daemon d;
	char *out;

	run_workload(&d);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s snapshot", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	cr_assert(strstr(out, "\nerrors: no_vf=1 rejected=1 no_lease=1 stale=1\n"), "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(request_metrics, snapshot_of_a_daemon_without_failures_says_none)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s snapshot", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	cr_assert(strstr(out, "\nerrors: none\n"), "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(request_metrics, snapshot_json_holds_every_kind_under_daemon)
{
	struct test_daemon d;
	char *out;

	run_workload(&d);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s snapshot --json",
				 test_build_path("vfpoolctl"), d.run_dir), 0);
	cr_assert(strstr(out, "{\"daemon\":{\"pid\":"), "%s", out);
	cr_assert(strstr(out, "\"errors\":4,"), "%s", out);
	cr_assert(strstr(out, "\"errors_by_kind\":{\"no_vf\":1,\"rejected\":1,\"blocked\":0,"
			      "\"busy\":0,\"no_lease\":1,\"stale\":1,\"conflict\":0,\"quota\":0,"
			      "\"config\":0,\"other\":0}},"), "%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}
