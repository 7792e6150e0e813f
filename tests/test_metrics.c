/* SPDX-License-Identifier: MIT */
/* vfpoolctl metrics against the real daemon, read back with a strict exposition parser. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/daemon_fixture.h"
#include "tests/prom_parse.h"
#include "tests/run_cmd.h"
#include "vfpool/vfpool.h"

static void alloc_ok(struct vfpool *h, const char *vm, const char *vnic, const char *net)
{
	struct vfpool_alloc_req req = VFPOOL_OPTS(vfpool_alloc_req,
		.vm_id = vm, .vnic_id = vnic, .network = net, .numa_node = -1);
	struct vfpool_lease l = VFPOOL_OPTS(vfpool_lease);
	char why[160] = "";
	int r = vfpool_alloc(h, &req, &l, why, sizeof(why));

	cr_assert_eq(r, 0, "alloc %s/%s: %s %s", vm, vnic, vfpool_strerror(r), why);
}

/* A daemon with three leases: two on red, one on blue. */
static void start_with_leases(struct test_daemon *d)
{
	struct vfpool *h;

	test_daemon_start(d, "2x8", NULL);
	cr_assert_eq(vfpool_connect(d->run_dir, NULL, &h), 0);
	alloc_ok(h, "vm1", "nic0", "red");
	alloc_ok(h, "vm1", "nic1", "blue");
	alloc_ok(h, "vm2", "nic0", "red");
	vfpool_close(h);
}

static void parse_ok(const char *text, struct prom_doc *doc)
{
	char why[256] = "";

	cr_assert_eq(prom_parse(text, doc, why, sizeof(why)), 0, "exposition rejected: %s\n%s",
		     why, text);
}

Test(metrics, every_line_parses_and_vf_counts_match_the_snapshot)
{
	struct test_daemon d;
	struct vfpool_snapshot *s;
	struct vfpool_daemon_info di = VFPOOL_OPTS(vfpool_daemon_info);
	struct prom_doc doc;
	unsigned free_vfs = 0, leased = 0;
	char *out;

	start_with_leases(&d);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	parse_ok(out, &doc);
	cr_assert_eq(vfpool_snapshot_take(d.run_dir, &s), 0);
	for (unsigned i = 0; i < vfpool_snapshot_pf_count(s); i++) {
		struct vfpool_pf_info p = VFPOOL_OPTS(vfpool_pf_info);

		cr_assert_eq(vfpool_snapshot_pf(s, i, &p), 0);
		free_vfs += p.free;
		leased += p.leased;
	}
	vfpool_snapshot_daemon(s, &di);
	vfpool_snapshot_free(s);
	cr_assert_eq(leased, 3u);
	cr_assert_eq(prom_sum(&doc, "vfpool_vfs", "state=\"leased\""), (double)leased);
	cr_assert_eq(prom_sum(&doc, "vfpool_vfs", "state=\"free\""), (double)free_vfs);
	cr_assert_eq(prom_sum(&doc, "vfpool_vfs", "pf=\"ens1f0\",state=\"leased\"") +
		     prom_sum(&doc, "vfpool_vfs", "pf=\"ens1f1\",state=\"leased\""), 3.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_network_leased_vfs", "network=\"red\""), 2.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_network_leased_vfs", "network=\"blue\""), 1.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_requests_total", NULL), (double)di.requests);
	cr_assert_eq(prom_sum(&doc, "vfpool_request_errors_total", NULL), (double)di.errors);
	cr_assert_eq(prom_sum(&doc, "vfpool_pf_total_vfs", NULL), 16.0);
	cr_assert_eq(prom_sum(&doc, "vfpool_probe_mode", NULL), 1.0, "exactly one mode is 1");
	cr_assert_eq(prom_sum(&doc, "vfpool_journal_bytes", NULL), (double)di.journal_bytes);
	cr_assert_eq(prom_sum(&doc, "vfpool_probe_messages_total", "verdict=\"passed\""),
		     (double)di.probe_passed);
	prom_free(&doc);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

static void ctl_ok(const struct test_daemon *d, const char *args)
{
	char *out;

	cr_assert_eq(run_capture(&out, "%s --run-dir %s %s", test_build_path("vfpoolctl"),
				 d->run_dir, args), 0, "vfpoolctl %s: %s", args, out);
	free(out);
}

/* Free VFs per network follow the PFs allowed to serve it: ens1f0 serves red only, ens1f1
 * every network; one VF of ens1f1 leased on blue. */
Test(metrics, free_vfs_per_network_follow_the_pfs_allowed_to_serve_it)
{
	struct test_daemon d;
	struct prom_doc doc;
	char *out;

	test_daemon_start(&d, "2x4", NULL);
	ctl_ok(&d, "network add red");
	ctl_ok(&d, "network add blue");
	ctl_ok(&d, "pf config ens1f0 --all-networks off");
	ctl_ok(&d, "pf network add ens1f0 red");
	ctl_ok(&d, "alloc vm1 nic0 blue");
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	parse_ok(out, &doc);
	cr_assert_eq(prom_sum(&doc, "vfpool_network_free_vfs", "network=\"red\""), 7.0, "%s",
		     out);
	cr_assert_eq(prom_sum(&doc, "vfpool_network_free_vfs", "network=\"blue\""), 3.0, "%s",
		     out);
	prom_free(&doc);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

/* vfpool_build_info{version} is 1 with the release vfpoolctl --version says, with the
 * daemon up and down (a dashboard tells which release stopped). */
Test(metrics, build_info_names_the_release_up_and_down)
{
	struct test_daemon d;
	struct prom_doc doc;
	char *out, *ver, want[96];

	cr_assert_eq(run_capture(&ver, "%s --version", test_build_path("vfpoolctl")), 0);
	ver[strcspn(ver, "\n")] = '\0';
	snprintf(want, sizeof(want), "version=\"%s\"", ver + strlen("vfpoolctl "));
	test_daemon_start(&d, "1x2", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics", test_build_path("vfpoolctl"),
				 d.run_dir), 0);
	parse_ok(out, &doc);
	cr_assert_eq(prom_sum(&doc, "vfpool_build_info", want), 1.0, "%s\n%s", want, out);
	cr_assert_eq(prom_sum(&doc, "vfpool_up", NULL), 1.0);
	prom_free(&doc);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
	cr_assert_eq(run_capture(&out, "%s --run-dir /nonexistent metrics 2>/dev/null",
				 test_build_path("vfpoolctl")), 1);
	parse_ok(out, &doc);
	cr_assert_eq(prom_sum(&doc, "vfpool_build_info", want), 1.0, "%s", out);
	cr_assert_eq(prom_sum(&doc, "vfpool_up", NULL), 0.0);
	prom_free(&doc);
	free(out);
	free(ver);
}

/* Prometheus' own checker (name conventions, units, _total on counters, help text) accepts
 * the exposition of a daemon with leases, networks and errors counted. */
Test(metrics, promtool_check_metrics_accepts_the_exposition)
{
	struct test_daemon d;
	char *out;

	if (run_capture(&out, "command -v promtool") != 0) {
		free(out);
		cr_skip_test("promtool is not installed (Debian: prometheus; make deps installs "
			     "it): the exposition is not checked by Prometheus' linter");
	}
	free(out);
	start_with_leases(&d);
	ctl_ok(&d, "network add red");
	/* a failed request, so the error counters are not all zero */
	run_capture(&out, "%s --run-dir %s alloc vm9 nic0 nosuch 2>&1",
		    test_build_path("vfpoolctl"), d.run_dir);
	free(out);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics | promtool check metrics 2>&1",
				 test_build_path("vfpoolctl"), d.run_dir), 0,
		     "promtool check metrics:\n%s", out);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(metrics, textfile_lands_as_vfpool_prom_with_no_temporary_left)
{
	struct test_daemon d;
	struct prom_doc doc;
	char dir[] = "/tmp/vfpool-textfile.XXXXXX", path[128], *out, *text;
	struct dirent *e;
	unsigned files = 0;
	DIR *dh;

	start_with_leases(&d);
	cr_assert(mkdtemp(dir));
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics --textfile %s",
				 test_build_path("vfpoolctl"), d.run_dir, dir), 0);
	cr_assert_str_empty(out, "--textfile prints nothing on stdout");
	snprintf(path, sizeof(path), "%s/vfpool.prom", dir);
	text = read_whole_file(path);
	parse_ok(text, &doc);
	cr_assert_eq(prom_sum(&doc, "vfpool_vfs", "state=\"leased\""), 3.0);
	dh = opendir(dir);
	cr_assert(dh);
	while ((e = readdir(dh)))
		if (e->d_name[0] != '.')
			files++;
	closedir(dh);
	cr_assert_eq(files, 1u, "only vfpool.prom remains in %s", dir);
	unlink(path);
	rmdir(dir);
	prom_free(&doc);
	free(text);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(metrics, textfile_into_a_missing_directory_fails_with_exit_1)
{
	struct test_daemon d;
	char *out;

	test_daemon_start(&d, "1x4", NULL);
	cr_assert_eq(run_capture(&out, "%s --run-dir %s metrics --textfile /nonexistent/vfpool "
				 "2>/dev/null", test_build_path("vfpoolctl"), d.run_dir), 1);
	free(out);
	cr_assert_eq(test_daemon_stop(&d), 0);
}

Test(metrics, parser_rejects_a_sample_without_type)
{
	struct prom_doc doc;
	char why[256] = "", *text = read_whole_file("tests/fixtures/metrics_sample_without_type.prom");

	cr_assert_eq(prom_parse(text, &doc, why, sizeof(why)), -1);
	cr_assert(strstr(why, "HELP and TYPE"), "reason: %s", why);
	free(text);
}

Test(metrics, parser_rejects_an_unquoted_label_value)
{
	struct prom_doc doc;
	char why[256] = "", *text = read_whole_file("tests/fixtures/metrics_unquoted_label.prom");

	cr_assert_eq(prom_parse(text, &doc, why, sizeof(why)), -1);
	cr_assert(strstr(why, "label"), "reason: %s", why);
	free(text);
}

static void parse_fixture_fails(const char *path, const char *reason)
{
	struct prom_doc doc;
	char why[256] = "", *text = read_whole_file(path);

	cr_assert_eq(prom_parse(text, &doc, why, sizeof(why)), -1, "%s accepted", path);
	cr_assert(strstr(why, reason), "%s: reason: %s", path, why);
	free(text);
}

Test(metrics, parser_accepts_a_cumulative_histogram)
{
	struct prom_doc doc;
	char *text = read_whole_file("tests/fixtures/metrics_histogram_ok.prom");

	parse_ok(text, &doc);
	cr_assert_eq(prom_sum(&doc, "t_seconds_bucket", "le=\"+Inf\""), 3.0);
	cr_assert_eq(prom_sum(&doc, "t_seconds_count", NULL), 3.0);
	prom_free(&doc);
	free(text);
}

Test(metrics, parser_rejects_histogram_buckets_that_go_down)
{
	parse_fixture_fails("tests/fixtures/metrics_histogram_not_cumulative.prom",
			    "not cumulative");
}

Test(metrics, parser_rejects_a_histogram_without_its_inf_bucket)
{
	parse_fixture_fails("tests/fixtures/metrics_histogram_without_inf.prom", "+Inf");
}

Test(metrics, parser_rejects_a_histogram_count_other_than_its_inf_bucket)
{
	parse_fixture_fails("tests/fixtures/metrics_histogram_count_mismatch.prom",
			    "_count differs");
}

Test(metrics, parser_rejects_a_histogram_suffix_on_a_counter)
{
	parse_fixture_fails("tests/fixtures/metrics_suffix_on_counter.prom", "no histogram");
}
